import type { Command } from 'commander';
import { copyCommand } from './copy.js';
import { loadCommand } from './load.js';
import { loginCommand, logoutCommand } from './login.js';
import { catalogCommand, deleteCommand, digestCommand, lsTagsCommand } from './remote-commands.js';
import { saveCommand } from './save.js';

/** The registry toolkit's commands beyond push and pull. */
export function registryCommands(): Command[] {
  return [
    copyCommand(),
    saveCommand(),
    loadCommand(),
    digestCommand(),
    lsTagsCommand(),
    catalogCommand(),
    deleteCommand(),
    loginCommand(),
    logoutCommand(),
  ];
}

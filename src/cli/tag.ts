import { Command } from 'commander';
import { action, lazy } from './action.js';

const tag = lazy(() => import('../api/images.js'), 'tag');

export function tagCommand(): Command {
  return new Command('tag')
    .description('give a stored image another name, as docker tag does')
    .argument('<source>', 'a stored image name or digest')
    .argument('<target>', 'the new name NAME[:TAG]')
    .action(action(async (source: string, target: string) => tag(source, target)));
}

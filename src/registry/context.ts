import type { LimitFunction } from 'p-limit';
import type { TransferEvent } from '../progress/progress.js';
import type { RetryPolicy } from './retry.js';
import type { UploadOptions } from './upload.js';

/** What a push or pull shares with the Registry that runs it. */
export interface TransferContext {
  /** Bounds the blob transfers in flight. */
  limit: LimitFunction;
  retry: RetryPolicy;
  upload: UploadOptions;
  progress(event: TransferEvent): void;
}

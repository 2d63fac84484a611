import type { LimitFunction } from 'p-limit';
import type { RetryPolicy } from './retry.js';
import type { UploadOptions } from './upload.js';

export interface ProgressEvent {
  kind: 'blob-skip' | 'blob-mount' | 'blob-upload' | 'blob-download' | 'manifest';
  /** The repository: "localhost:5000/team/app". */
  ref: string;
  digest: string;
  bytes?: number;
}

/** What a push or pull shares with the Registry that runs it. */
export interface TransferContext {
  /** Bounds the blob transfers in flight. */
  limit: LimitFunction;
  retry: RetryPolicy;
  upload: UploadOptions;
  progress(event: ProgressEvent): void;
}

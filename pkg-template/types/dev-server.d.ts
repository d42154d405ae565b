export declare const DEFAULT_API_KEY: string;
export declare const DEFAULT_WORKSPACE_ID: string;
export declare const OTHER_WORKSPACE_ID: string;
export declare const NO_SCOPE_API_KEY: string;
export declare const FAULTS: Readonly<Record<string, string>>;
export interface DevServerItem {
  workspace_id?: string;
  post_item_id: string;
  post_type: string;
  platform: string;
  status: string;
  metrics: { views: number; likes: number; comments: number; fetched_at: string } | null;
  /**
   * When set (RFC 3339 or epoch ms) on an item with metrics, the item gains snapshot k (k = 1..90) at
   * `postedAt + k * dayMs`; `metrics` are the counts of the snapshot current at start-up (its
   * fetched_at is recomputed). Without it the item never changes.
   */
  postedAt?: string | number;
  /** Days (snapshot indexes) PowerPost skipped: on such a day the API keeps answering the day before. */
  skippedDays?: number[];
  /** Days on which views and likes go down versus the day before (a platform correcting itself). */
  correctedDays?: number[];
}
/** One snapshot as `/__dev/history` lists it. */
export interface DevServerSnapshot {
  fetched_at: string;
  views: number;
  likes: number;
  comments: number;
}
/** The body of `GET /__dev/history?id=ID`: what PowerPost has taken so far for that item. */
export interface DevServerHistory {
  post_item_id: string;
  dayMs: number;
  /** null for an item that never changes. */
  postedAt: string | null;
  /** Ascending by fetched_at. */
  snapshots: DevServerSnapshot[];
  /** Days skipped so far, with the time their snapshot was due. */
  skipped: { day: number; due: string }[];
  /** Days taken so far on which views and likes went down. */
  corrected: number[];
  /** The 90 days are over: fetched_at no longer moves. */
  complete: boolean;
}
export interface DevServerOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  workspaceId?: string;
  data?: DevServerItem[];
  rateLimit?: number;
  rateWindowMs?: number;
  staticDirs?: Record<string, string>;
  /** Where `fault-redirect` points (default http://127.0.0.1:9/steal-the-key). */
  redirectTo?: string;
  log?: (line: string) => void;
  /** How long a simulated day lasts, in ms (default 86 400 000: real days). */
  dayMs?: number;
}
export interface DevServer {
  url: string;
  port: number;
  apiKey: string;
  workspaceId: string;
  close(): Promise<void>;
}
/** Snapshots PowerPost takes per item (one a day). */
export declare const SNAPSHOTS: number;
export declare function sampleData(now?: number, dayMs?: number): DevServerItem[];
export declare function startDevServer(options?: DevServerOptions): Promise<DevServer>;

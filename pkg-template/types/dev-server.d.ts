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
}
export interface DevServer {
  url: string;
  port: number;
  apiKey: string;
  workspaceId: string;
  close(): Promise<void>;
}
export declare function sampleData(now?: number): DevServerItem[];
export declare function startDevServer(options?: DevServerOptions): Promise<DevServer>;

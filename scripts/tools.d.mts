// Types for tools.mjs (plain ESM: it runs before the npm dependencies exist).
export declare const TEMPORAL_CLI_VERSION: string;
export declare const TEMPORAL_CLI_GO_VERSION: string;
export declare const FERRETDB_VERSION: string;
export declare const CHROMIUM_PATH: string;
export declare const SURFNET_CRATE: string;
export declare const REDIS_SERVER_PATH: string;
export declare const POSTGRES_BIN_DIR: string;
/** The tool cache: QD_CACHE_DIR, else $XDG_CACHE_HOME/quantdesk, else ~/.cache/quantdesk. */
export declare function cacheDir(): string;
export declare function toolPaths(): { cache: string; temporal: string; temporalGo: string; ferretdb: string; chromium: string; redis: string; surfnet: string };
export declare function surfnetInputsHash(): string;
export declare function surfnetBinary(): string;
export declare function temporalBinary(): string;
export declare function ferretdbBinary(): string;
export declare function postgresBinDir(): string;
export declare function redisServerBinary(): string;
export declare function ensureDebianPackages(wanted: [string, string?][]): void;
export declare function ensureTools(only?: string[]): Promise<void>;

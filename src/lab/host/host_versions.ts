/**
 * The Windows Server releases the lab can pose as (`lab init --host-version`). What differs
 * between them is what Microsoft's class pages say was "added in" a release: the class schemas
 * (../schema/classes.ts) and the highest VM configuration version the host runs.
 */
import { UsageError } from "../../base/mod";

export const HOST_VERSIONS = ["2016", "2019", "2022", "2025"] as const;
export type HostVersion = (typeof HOST_VERSIONS)[number];

/** Used when `lab init` is given no --host-version and HVB_HOST_VERSION is unset. */
export const DEFAULT_HOST_VERSION: HostVersion = "2022";

/**
 * Windows build of each release. Class pages date properties by Windows 10 release (1703 =
 * 15063, 1709 = 16299); Server 2016 is 1607 (14393), 2019 is 1809, 2022 is 21H2, 2025 is 24H2.
 */
export const HOST_BUILD: Record<HostVersion, number> = { "2016": 14393, "2019": 17763, "2022": 20348, "2025": 26100 };

/** Windows 10 releases named on the class pages, as builds. */
export const BUILD = { v1703: 15063, v1709: 16299 } as const;

/**
 * Highest VM configuration version each release runs (Microsoft's "Supported virtual machine
 * configuration versions" table: 2016 8.0, 2019 9.0, 2022 10.0, 2025 12.0).
 */
export const MAX_CONFIG_VERSION: Record<HostVersion, string> = { "2016": "8.0", "2019": "9.0", "2022": "10.0", "2025": "12.0" };

/** Parses a host version; `what` names where it came from for the message. */
export function parseHostVersion(text: string, what: string): HostVersion {
  const t = text.trim();
  if ((HOST_VERSIONS as readonly string[]).includes(t)) return t as HostVersion;
  throw new UsageError(`${what} must be one of ${HOST_VERSIONS.join(", ")}, got '${text}'`);
}

/**
 * The host version a new lab gets by default: HVB_HOST_VERSION when set (so the whole suite can
 * run against each release), else {@link DEFAULT_HOST_VERSION}.
 */
export function defaultHostVersion(env: NodeJS.ProcessEnv = process.env): HostVersion {
  const v = env["HVB_HOST_VERSION"];
  return v === undefined || v === "" ? DEFAULT_HOST_VERSION : parseHostVersion(v, "HVB_HOST_VERSION");
}

/** True when configuration version `version` runs on `host` (it is not newer than the host's highest). */
export function hostRunsConfigVersion(host: HostVersion, version: string): boolean {
  const [a, b] = version.split(".").map(Number) as [number, number];
  const [x, y] = MAX_CONFIG_VERSION[host].split(".").map(Number) as [number, number];
  return a < x || (a === x && b <= y);
}

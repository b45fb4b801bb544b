/**
 * The CIM seam: the session interface through which the product reaches a virtualization host,
 * object paths, WQL, embedded instances and value conversion. Nothing here knows Hyper-V; the
 * typed client (src/hyperv) and the lab host (src/lab) both stand on it, and so does the
 * in-memory {@link FakeCimSession} the unit tests use.
 *
 * @module
 */
export * from "./session";
export * from "./object_path";
export * from "./wql";
export * from "./embedded";
export * from "./class_schema";
export * from "./values";
export { FakeCimSession, type MethodHandler, type FakeJobOptions } from "./fake_session";

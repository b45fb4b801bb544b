/**
 * Win32_ShadowCopy.Create(Volume, Context) (static, root\cimv2): ReturnValue 0 and ShadowID, or
 * 3 (volume not found) for a Volume that is no lab volume's Name. "No VSS" is emulated with a
 * fault: `lab fail --method Create --code 11` (provider not registered) or 4 (volume not supported).
 */
import * as path from "node:path";
import { type MethodHandler, sync } from "./method_support";
import { takeShadowCopy } from "../host/shadow_copies";
import { labVolumes } from "../host/volumes";

export const createShadowCopy: MethodHandler = (ctx, args) => {
  const wanted = String(args.string("Volume") ?? "");
  if (!wanted) return sync(2);
  const norm = (p: string) => path.resolve(p);
  const volume = labVolumes(ctx.state, ctx.dir).find((v) => norm(v.root) === norm(wanted) || `\\\\?\\Volume{${v.id.toLowerCase()}}\\` === wanted.toLowerCase());
  if (!volume) return sync(3);
  const shadow = takeShadowCopy(ctx.state, ctx.dir, volume, ctx.now);
  return sync(0, { ShadowID: shadow.id });
};

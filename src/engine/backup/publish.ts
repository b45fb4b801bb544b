import { crashPoint } from "../../base/mod";
import type { Catalog, PointDetails, PointRecord, PointWriter } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostCheckpoint } from "../host_api";

/** What {@link publishPoint} adds to the staged disks. */
export interface PublishInput {
  host: HostApi;
  checkpoint: HostCheckpoint;
  writer: PointWriter;
  /** The catalog as read at the start of the backup; gets the new record. */
  catalog: Catalog;
  details: PointDetails;
  events: EngineEvents;
  activity: string;
}

/**
 * The checkpoint's configuration, then the commit: manifest, sync, rename and the catalog
 * write (the commit point). Returns the new record as held in the catalog.
 */
export async function publishPoint(input: PublishInput): Promise<PointRecord> {
  const { writer } = input;
  input.events.progress({ activity: input.activity, status: "Exporting configuration", percent: 92 });
  // Exported into the point's folder itself, so it is laid out like a Hyper-V export
  // (Virtual Machines/, Snapshots/, Virtual Hard Disks/) that Import-VM can read.
  await input.host.exportConfiguration(input.checkpoint, writer.staging);
  crashPoint("backup-config-exported");
  writer.addConfiguration();
  return writer.commit(input.catalog, input.details, { beforePublish: () => crashPoint("backup-before-publish") });
}

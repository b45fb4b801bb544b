import { crashPoint } from "../../base/mod";
import type { Catalog, PointDetails, PointRecord, PointWriter } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostCheckpoint } from "../host_api";
import { exportConfigurationOnly } from "./configuration_export";

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
  // Laid out in the point like a Hyper-V export (Virtual Machines/, Snapshots/, Virtual Hard
  // Disks/) that Import-VM can read; only the configuration of the export is kept.
  await exportConfigurationOnly(input.host, input.checkpoint, writer.staging, input.events);
  crashPoint("backup-config-exported");
  writer.addConfiguration();
  return writer.commit(input.catalog, input.details, { beforePublish: () => crashPoint("backup-before-publish") });
}

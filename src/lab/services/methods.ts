/** Which emulated method answers which class. */
import { convertToReferencePoint, createSnapshot, destroySnapshot } from "./snapshot_service";
import { destroyReferencePoint } from "./reference_point_service";
import { getVirtualDiskChanges, getVirtualHardDiskSettingData, getVirtualHardDiskState, mergeVirtualHardDisk } from "./image_management_service";
import {
  destroySystem,
  exportSystemDefinition,
  importSystemDefinition,
  modifyResourceSettings,
  modifySystemSettings,
  realizePlannedSystem,
  validatePlannedSystem,
} from "./management_service";
import type { MethodHandler } from "./method_support";
import { convertCollectionToReferencePoint, createCollectionSnapshot, destroyCollectionSnapshot, exportCollectionSnapshot } from "./collection_snapshot_service";
import { destroyReferencePointCollection } from "./collection_reference_point_service";
import { requestStateChange } from "./vm_state";
import { deleteVhdSnapshot, getVhdSetInformation, getVhdSnapshotInformation, setVhdSnapshotInformation } from "./vhd_set_methods";
import { getError, getErrorEx, requestJobStateChange } from "./job_methods";
import { addVirtualMachine } from "./cluster_service";
import { createShadowCopy } from "./shadow_copy_service";
import { addResourceSettings, defineSystem } from "./define_system";
import { createVirtualHardDisk } from "./create_disk";

export const METHODS: Record<string, Record<string, MethodHandler>> = {
  msvm_virtualsystemsnapshotservice: {
    createsnapshot: createSnapshot,
    destroysnapshot: destroySnapshot,
    converttoreferencepoint: convertToReferencePoint,
  },
  msvm_virtualsystemreferencepointservice: {
    destroyreferencepoint: destroyReferencePoint,
  },
  msvm_collectionsnapshotservice: {
    createsnapshot: createCollectionSnapshot,
    destroysnapshot: destroyCollectionSnapshot,
    converttoreferencepoint: convertCollectionToReferencePoint,
    exportsnapshot: exportCollectionSnapshot,
  },
  msvm_collectionreferencepointservice: {
    destroyreferencepoint: destroyReferencePointCollection,
  },
  msvm_imagemanagementservice: {
    getvirtualdiskchanges: getVirtualDiskChanges,
    getvirtualharddisksettingdata: getVirtualHardDiskSettingData,
    getvirtualharddiskstate: getVirtualHardDiskState,
    mergevirtualharddisk: mergeVirtualHardDisk,
    getvhdsetinformation: getVhdSetInformation,
    getvhdsnapshotinformation: getVhdSnapshotInformation,
    setvhdsnapshotinformation: setVhdSnapshotInformation,
    deletevhdsnapshot: deleteVhdSnapshot,
    createvirtualharddisk: createVirtualHardDisk,
  },
  msvm_virtualsystemmanagementservice: {
    exportsystemdefinition: exportSystemDefinition,
    importsystemdefinition: importSystemDefinition,
    validateplannedsystem: validatePlannedSystem,
    realizeplannedsystem: realizePlannedSystem,
    destroysystem: destroySystem,
    modifyresourcesettings: modifyResourceSettings,
    modifysystemsettings: modifySystemSettings,
    definesystem: defineSystem,
    addresourcesettings: addResourceSettings,
  },
  msvm_concretejob: {
    geterror: getError,
    geterrorex: getErrorEx,
    requeststatechange: requestJobStateChange,
  },
  msvm_computersystem: {
    requeststatechange: requestStateChange,
  },
  mscluster_cluster: {
    addvirtualmachine: addVirtualMachine,
  },
  win32_shadowcopy: {
    create: createShadowCopy,
  },
};

/** The method names the lab emulates, for messages. */
export function emulatedMethods(className: string): string[] {
  return Object.keys(METHODS[className.toLowerCase()] ?? {});
}

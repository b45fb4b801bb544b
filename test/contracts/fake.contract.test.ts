/**
 * The CimSession contract against FakeCimSession, seeded with the same minimal host the lab
 * contract test builds (one VM, one disk, the image-management and snapshot services). The
 * methods' parameter checks live in the seed's handlers, as a real provider's live in the provider.
 */
import { buildObjectPath, CimError, FakeCimSession, toCimDtd20, type CimClassSchema, type CimInstance } from "../../src/cim/mod";
import { CONTRACT_VM, describeCimSessionContract } from "./cim_session_contract";

const HOST = "FAKEHOST";
const NS = "root\\virtualization\\v2";
const VM_ID = "6A0B0C0D-0000-4000-8000-000000000001";
const DISK = "C:\\fake\\contract-vm\\disk0.vhdx";

function at(className: string, keys: Record<string, string>, props: Record<string, unknown> = {}): CimInstance {
  return { __CLASS: className, __PATH: buildObjectPath({ host: HOST, namespace: NS, className, keys }), ...keys, ...props };
}

function system(name: string, elementName: string): CimInstance {
  return at("Msvm_ComputerSystem", { CreationClassName: "Msvm_ComputerSystem", Name: name }, { ElementName: elementName, EnabledState: 2 });
}

function service(className: string): CimInstance {
  return at(className, { CreationClassName: className, Name: className, SystemCreationClassName: "Msvm_ComputerSystem", SystemName: HOST });
}

const STATE_SCHEMA: CimClassSchema = {
  className: "Msvm_VirtualHardDiskState",
  properties: [
    { name: "FileSize", type: "uint64", isArray: false },
    { name: "InUse", type: "boolean", isArray: false },
  ],
};

function seededFake(): { session: FakeCimSession; failNextJob: (method: string, errorCode: number) => void } {
  const fake = new FakeCimSession();
  fake.put(system(HOST, HOST));
  const vm = fake.put(system(VM_ID, CONTRACT_VM));
  const vssd = fake.put(
    at("Msvm_VirtualSystemSettingData", { InstanceID: `Microsoft:${VM_ID}` }, { VirtualSystemType: "Microsoft:Hyper-V:System:Realized", ElementName: CONTRACT_VM }),
  );
  const sasd = fake.put(at("Msvm_StorageAllocationSettingData", { InstanceID: `Microsoft:${VM_ID}\\disk0` }, { HostResource: [DISK] }));
  fake.associate(vm.__PATH, vssd.__PATH, "Msvm_SettingsDefineState");
  fake.associate(vssd.__PATH, sasd.__PATH, "Msvm_VirtualSystemSettingDataComponent");
  fake.defineClass(STATE_SCHEMA);
  fake.defineClass({
    className: "Msvm_VirtualSystemSnapshotSettingData",
    properties: [
      { name: "ConsistencyLevel", type: "uint8", isArray: false },
      { name: "IgnoreNonSnapshottableDisks", type: "boolean", isArray: false },
    ],
  });
  fake.put(service("Msvm_ImageManagementService"));
  fake.put(service("Msvm_VirtualSystemSnapshotService"));

  fake.on("Msvm_ImageManagementService", "GetVirtualHardDiskState", (_path, args) => {
    if (typeof args["Path"] !== "string") throw new CimError("CimInvalidParameter", `Parameter Path must be a string, got ${JSON.stringify(args["Path"])}`, "Path");
    return { ReturnValue: 0, State: toCimDtd20(STATE_SCHEMA, { __CLASS: "Msvm_VirtualHardDiskState", FileSize: 4 * 1024 * 1024, InUse: false }) };
  });
  const failures = new Map<string, number>();
  const jobMethod = (method: string) => () => {
    const errorCode = failures.get(method.toLowerCase());
    failures.delete(method.toLowerCase());
    const job =
      errorCode === undefined
        ? fake.startJob()
        : fake.startJob({ finalState: 10, errorCode, errorDescription: `Injected failure of ${method}` });
    return { ReturnValue: 4096, Job: job };
  };
  fake.on("Msvm_VirtualSystemSnapshotService", "CreateSnapshot", jobMethod("CreateSnapshot"));
  return { session: fake, failNextJob: (method, errorCode) => void failures.set(method.toLowerCase(), errorCode) };
}

describeCimSessionContract("FakeCimSession", seededFake);

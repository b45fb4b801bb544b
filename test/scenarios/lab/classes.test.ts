import { describe, expect, it } from "vitest";
import { addVm, cli, cliOk, MiB, newLab, one, vmPath } from "../../support/lab";

describe("classes and navigation", () => {
  it("answers superclass queries and superclass paths as WMI does", () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const all = lab.session.querySync("SELECT * FROM CIM_ComputerSystem");
    expect(all.map((x) => x["Caption"]).sort()).toEqual(["Hosting Computer System", "Virtual Machine"]);
    const p = vmPath(lab, "a").replace("Msvm_ComputerSystem.", "CIM_ComputerSystem.");
    expect(lab.session.getInstanceSync(p)["ElementName"]).toBe("a");
    const names = lab.session.querySync("SELECT ElementName FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'");
    expect(names).toEqual([{ __CLASS: "Msvm_ComputerSystem", __PATH: vmPath(lab, "a"), ElementName: "a" }]);
    const host = one(lab.session.querySync("SELECT * FROM Msvm_ComputerSystem WHERE Description='Microsoft Hosting Computer System'"));
    expect(lab.session.associatorsSync(host.__PATH, { assocClass: "Msvm_HostedService" })).toHaveLength(6);
  });

  it("lays out controllers by generation: gen 2 all on SCSI, gen 1 boots from IDE 0:0, gen 1 without SCSI uses IDE only", () => {
    const lab = newLab();
    addVm(lab, { name: "g2", diskSizes: [16 * MiB, 16 * MiB] });
    addVm(lab, { name: "g1", generation: 1, diskSizes: [16 * MiB, 16 * MiB] });
    addVm(lab, { name: "g1n", generation: 1, scsi: false, diskSizes: [16 * MiB, 16 * MiB, 16 * MiB] });
    const layout = (vm: string) => {
      const vssd = one(lab.session.associatorsSync(vmPath(lab, vm), { assocClass: "Msvm_SettingsDefineState" }));
      expect(vssd["VirtualSystemSubType"]).toBe(`Microsoft:Hyper-V:SubType:${vm === "g2" ? 2 : 1}`);
      const parts = lab.session.associatorsSync(vssd.__PATH, { resultClass: "Msvm_ResourceAllocationSettingData" });
      const byPath = new Map(parts.map((x) => [x.__PATH, x]));
      return parts
        .filter((x) => x["ResourceType"] === 17)
        .map((d) => `${byPath.get(String(d["Parent"]))!["ResourceType"]}:${byPath.get(String(d["Parent"]))!["Address"]}:${d["AddressOnParent"]}`)
        .sort(); // the lab, like WMI, answers in no set order
    };
    expect(layout("g2")).toEqual(["6::0", "6::1"]);
    expect(layout("g1")).toEqual(["5:0:0", "6::0"]);
    expect(layout("g1n")).toEqual(["5:0:0", "5:0:1", "5:1:0"]);
    expect(lab.session.querySync("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType=6")).toHaveLength(2);
    expect(() => addVm(lab, { name: "bad", scsi: false })).toThrow(/generation 2 VM without a SCSI controller/);
  });

  it("lab migrate, crash, state and fail work through the command line", () => {
    const dir = newLab().dir;
    cliOk(["lab", "vm", "new", "--lab", dir, "--name", "a", "--disk", "16MiB"]);
    expect(cli(["lab", "migrate", "--lab", dir, "--vm", "a"]).code).toBe(0);
    expect(cli(["lab", "state", "--lab", dir, "--vm", "a", "Saved"]).code).toBe(0);
    expect(JSON.parse(cliOk(["lab", "ls", "--lab", dir, "--json"])).vms[0].state).toBe("Saved");
    expect(cli(["lab", "state", "--lab", dir, "--vm", "a", "Sleeping"]).code).toBe(2);
    expect(cli(["lab", "state", "--lab", dir, "--vm", "a", "Running"]).code).toBe(0);
    expect(cli(["lab", "crash", "--lab", dir]).code).toBe(0);
    expect(JSON.parse(cliOk(["lab", "ls", "--lab", dir, "--json"])).vms[0].state).toBe("Off");
    const w = cli(["lab", "write", "--lab", dir, "--vm", "a", "--disk", "0", "--offset", "0", "--length", "512", "--seed", "1"]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/not Running/);
    cliOk(["lab", "fail", "--lab", dir, "--method", "RequestStateChange", "--code", "32769"]);
    const vm = JSON.parse(cliOk(["lab", "cim", "query", "--lab", dir, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'"]))[0].__PATH;
    const args = JSON.stringify({ RequestedState: 2 });
    expect(JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", vm, "--method", "RequestStateChange", "--args", args]))).toEqual({ ReturnValue: 32769 });
    const started = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", vm, "--method", "RequestStateChange", "--args", args, "--wait"]));
    expect(started.ReturnValue).toBe(4096);
    expect(started.Job.JobState).toBe(7);
    expect(started.AffectedElements).toEqual([vm]);
    expect(JSON.parse(cliOk(["lab", "ls", "--lab", dir, "--json"])).vms[0].state).toBe("Running");
  });
});

import { describe, expect, it } from "vitest";
import { HyperVMethodError, describeJobErrorCode, describeReturnValue, returnCodeFamily } from "../../../src/hyperv/method_errors";
import { HvbError } from "../../../src/base/mod";

describe("describeReturnValue", () => {
  it("uses family A for the snapshot and resource-settings methods", () => {
    for (const m of ["CreateSnapshot", "DestroySnapshot", "ConvertToReferencePoint", "ModifyResourceSettings", "DestroySystem"]) {
      expect(returnCodeFamily(m)).toBe("A");
    }
    expect(describeReturnValue("CreateSnapshot", 1)).toEqual({ text: "Not Supported", source: "method" });
    expect(describeReturnValue("CreateSnapshot", 5).text).toBe("Invalid State");
    expect(describeReturnValue("CreateSnapshot", 6).text).toBe("Invalid Type");
  });

  it("names ModifyResourceSettings' 6 Incompatible Parameters and notes DestroySystem has no 6", () => {
    expect(describeReturnValue("ModifyResourceSettings", 6).text).toBe("Incompatible Parameters");
    expect(describeReturnValue("DestroySystem", 6).source).toBe("undocumented");
  });

  it("gives Hyper-V's name for vendor-specific codes of family-A methods and says so", () => {
    expect(describeReturnValue("CreateSnapshot", 32775)).toEqual({ text: "Invalid state for this operation", source: "vendor" });
    expect(describeReturnValue("CreateSnapshot", 40000)).toEqual({ text: "Vendor Specific", source: "undocumented" });
    expect(describeReturnValue("CreateSnapshot", 100).text).toBe("DMTF Reserved");
  });

  it("uses family B for image management, export/import and state changes", () => {
    for (const m of ["GetVirtualDiskChanges", "ExportSystemDefinition", "ImportSystemDefinition", "RealizePlannedSystem", "DestroyReferencePoint", "RequestStateChange"]) {
      expect(returnCodeFamily(m)).toBe("B");
    }
    const expected: Record<number, string> = {
      32768: "Failed",
      32769: "Access Denied",
      32770: "Not Supported",
      32771: "Status is unknown",
      32772: "Timeout",
      32773: "Invalid parameter",
      32774: "System is in use",
      32775: "Invalid state for this operation",
      32776: "Incorrect data type",
      32777: "System is not available",
      32778: "Out of memory",
    };
    for (const [code, text] of Object.entries(expected)) expect(describeReturnValue("GetVirtualDiskChanges", Number(code))).toEqual({ text, source: "method" });
  });

  it("reads 32779 as File not found for image management and File in use for import", () => {
    expect(describeReturnValue("GetVirtualHardDiskSettingData", 32779).text).toBe("File not found");
    expect(describeReturnValue("ImportSystemDefinition", 32779).text).toBe("File in use");
    expect(describeReturnValue("ValidatePlannedSystem", 32779).text).toBe("File in use");
    expect(describeReturnValue("ExportSystemDefinition", 32779).source).toBe("undocumented");
  });

  it("names job error codes with the family-B table", () => {
    expect(describeJobErrorCode("CreateSnapshot", 32768)).toBe("Failed");
    expect(describeJobErrorCode("GetVirtualDiskChanges", 32779)).toBe("File not found");
    expect(describeJobErrorCode("CreateSnapshot", 5)).toBe("Unknown error");
  });
});

describe("HyperVMethodError", () => {
  it("carries the method, the return value and its meaning in fields and message", () => {
    const e = new HyperVMethodError({ method: "CreateSnapshot", subject: "VM 'web01'", returnValue: 32775 });
    expect(e).toBeInstanceOf(HvbError);
    expect(e.code).toBe("HyperVMethodFailed");
    expect(e.method).toBe("CreateSnapshot");
    expect(e.returnValue).toBe(32775);
    expect(e.errorCode).toBe(32775);
    expect(e.meaning).toBe("Invalid state for this operation");
    expect(e.jobErrorDescription).toBeUndefined();
    expect(e.message).toBe("CreateSnapshot failed on VM 'web01': 32775 Invalid state for this operation");
    expect(e.category).toBe("InvalidOperation");
  });

  it("reports a failed job by its ErrorCode and ErrorDescription", () => {
    const e = new HyperVMethodError({
      method: "CreateSnapshot",
      subject: "VM 'web01'",
      returnValue: 4096,
      jobState: 10,
      jobErrorCode: 32775,
      jobErrorDescription: "The guest's VSS writer failed",
    });
    expect(e.returnValue).toBe(4096);
    expect(e.errorCode).toBe(32775);
    expect(e.jobState).toBe(10);
    expect(e.message).toBe("CreateSnapshot failed on VM 'web01': 32775 Invalid state for this operation (job: The guest's VSS writer failed)");
  });

  it("maps Access Denied to its own code and PermissionDenied", () => {
    const e = new HyperVMethodError({ method: "ExportSystemDefinition", subject: "VM 'a'", returnValue: 32769 });
    expect(e.code).toBe("HyperVAccessDenied");
    expect(e.category).toBe("PermissionDenied");
  });

  it("describes a job that failed without an ErrorCode by its state", () => {
    const e = new HyperVMethodError({ method: "DestroySnapshot", subject: "checkpoint 'x' of VM 'a'", returnValue: 4096, jobState: 8, jobErrorCode: 0 });
    expect(e.errorCode).toBe(4096);
    expect(e.message).toBe("DestroySnapshot failed on checkpoint 'x' of VM 'a': job ended in state Terminated");
  });
});

import { describe, expect, it } from "vitest";
import { guestOsFrom } from "../../../src/hyperv/guest_os";

const item = (name: string, data: string): string =>
  `<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>${data}</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>${name}</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY></INSTANCE>`;

describe("guestOsFrom (Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems)", () => {
  it("tells Windows from Linux by OSPlatformId, else by OSName", () => {
    expect(guestOsFrom([item("OSName", "Windows Server 2019 Standard"), item("OSPlatformId", "2")])).toEqual({ name: "Windows Server 2019 Standard", platformId: 2, linux: false });
    expect(guestOsFrom([item("OSName", "CentOS Linux"), item("OSVersion", "7")])).toMatchObject({ linux: true, platformId: undefined });
    expect(guestOsFrom([item("OSName", "Microsoft Windows 10 Pro")])).toMatchObject({ linux: false });
    expect(guestOsFrom([item("OSName", "Whatever"), item("OSPlatformId", "100")])).toMatchObject({ linux: true, platformId: 100 });
  });
  it("is undefined without OSName and skips items it cannot read (the guest writes them)", () => {
    expect(guestOsFrom([])).toBeUndefined();
    expect(guestOsFrom(["not xml", item("OSVersion", "1")])).toBeUndefined();
    expect(guestOsFrom(["<garbage", item("OSName", "Debian GNU/Linux")])).toMatchObject({ linux: true });
  });
});

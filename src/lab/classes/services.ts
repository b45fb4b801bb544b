/** The singleton services: management, snapshot, reference point and image management. */
import type { CimInstance } from "../../cim/mod";
import type { LabState } from "../host/model";
import { SERVICES, type ServiceClass, servicePath } from "../host/paths";

export function serviceInstance(state: LabState, className: ServiceClass): CimInstance {
  const s = SERVICES[className];
  return {
    __CLASS: className,
    __PATH: servicePath(state.hostName, className, s.name),
    Caption: s.elementName,
    Description: s.elementName,
    ElementName: s.elementName,
    CreationClassName: className,
    Name: s.name,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: state.hostName,
    EnabledState: 2,
    HealthState: 5,
    OperationalStatus: [2],
    Started: true,
    StartMode: "Automatic",
  };
}

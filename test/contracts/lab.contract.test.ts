/** The CimSession contract against the lab host: a fresh `initLab` with one VM per test. */
import { addFault, mutateLab } from "../../src/lab/mod";
import { addVm, newLab } from "../support/lab";
import { CONTRACT_VM, describeCimSessionContract } from "./cim_session_contract";

describeCimSessionContract("lab", () => {
  const lab = newLab();
  addVm(lab, { name: CONTRACT_VM });
  return {
    session: lab.session,
    failNextJob: (method, errorCode) => mutateLab(lab.dir, (s) => addFault(s, { method, code: errorCode, times: 1, atPercent: 50 })),
  };
});

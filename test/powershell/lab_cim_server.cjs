// The stand-ins' (CimStandIns.ps1) way into the lab without a node start per call: one process
// that reads one JSON array of `hvbackup` words per stdin line, runs them with the bundle's own
// runCli (so `lab cim query|get|associators|invoke --events` is the command that answers), and
// writes the invocation's last event line (its result or error) as one line on stdout.
"use strict";
const { createInterface } = require("node:readline");
const { runCli } = require(process.argv[2]);

let queue = Promise.resolve();
createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  queue = queue.then(async () => {
    let out = "";
    const io = { stdout: (t) => void (out += t), stderr: () => {} };
    try {
      await runCli([...JSON.parse(line), "--events"], io);
    } catch (e) {
      out = JSON.stringify({ type: "error", code: "InternalError", message: String(e && e.message) });
    }
    const lines = out.split("\n").filter((l) => l.trim() !== "");
    process.stdout.write(`${lines[lines.length - 1] ?? '{"type":"error","code":"InternalError","message":"no output"}'}\n`);
  });
});

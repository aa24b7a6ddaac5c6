// Shifts node's clock (Date.now(), new Date(), Date()) by the seconds in the file named by HSMBACKUP_CLOCK_FILE,
// re-read whenever that file changes, so a running Azurite follows the local stack's Stack.set_clock: blob
// Creation-Time/Last-Modified, SAS start/expiry and OAuth nbf/exp checks all read `new Date()`.
// Loaded with NODE_OPTIONS=--require (tests/stack/azurite.py). Dates made from a given time are left alone.
"use strict";
const fs = require("fs");

const file = process.env.HSMBACKUP_CLOCK_FILE;
const RealDate = Date;
let seen = null;
let offsetMs = 0;

function offset() {
  if (!file) return 0;
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return offsetMs; // written by rename: a moment without the file keeps the last offset
  }
  const version = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  if (version !== seen) {
    const seconds = Number(fs.readFileSync(file, "utf8").trim());
    if (Number.isFinite(seconds)) offsetMs = Math.round(seconds * 1000);
    seen = version;
  }
  return offsetMs;
}

function now() {
  return RealDate.now() + offset();
}

function ShiftedDate(...args) {
  if (!new.target) return new RealDate(now()).toString(); // Date() called as a function: a string
  return Reflect.construct(RealDate, args.length ? args : [now()], new.target);
}
ShiftedDate.prototype = RealDate.prototype; // instanceof Date keeps working, for old and new dates alike
Object.setPrototypeOf(ShiftedDate, RealDate); // Date.UTC, Date.parse
ShiftedDate.now = now;
globalThis.Date = ShiftedDate;

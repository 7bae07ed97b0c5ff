// Which pool a manager fronts: read only by the testing hooks (src/testing.ts), so the
// manager's published type shows no internals.

import type { Pool } from "./dispatcher.js";

export const pools = new WeakMap<object, Pool>();

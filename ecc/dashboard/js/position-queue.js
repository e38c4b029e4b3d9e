// The vehicle page's positions waiting for the center, in IndexedDB: they survive a lost link, a
// reload and a closed tab, and leave only once the center has answered for them. Keyed by
// [vehicle, ts] with ts in milliseconds, as the center identifies a position: a position taken
// twice is kept once, and a batch the center stored but whose answer was lost is sent again and
// stored there once. Bounded: past MAX the oldest go.
const DB = "ecc-vehicle";
const STORE = "positions";
const MAX = 200000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export class PositionQueue {
  static async open() {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: ["vehicle", "ts"] });
    return new PositionQueue(await request(req));
  }

  constructor(db) {
    this.db = db;
  }

  _range(vehicle) {
    return IDBKeyRange.bound([vehicle, -Infinity], [vehicle, Infinity]);
  }

  /** Keep a position { ts (epoch seconds), lat, lon, ... } of `vehicle`. */
  async put(vehicle, position) {
    const ts = Math.round(position.ts * 1000) / 1000;
    const tx = this.db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    store.put({ ...position, vehicle, ts });
    const count = await request(store.count(this._range(vehicle)));
    if (count > MAX) {
      const oldest = await request(store.getAllKeys(this._range(vehicle), count - MAX));
      for (const key of oldest) store.delete(key);
    }
    await done(tx);
  }

  /** The oldest `limit` positions of `vehicle`, oldest first. */
  async peek(vehicle, limit) {
    const tx = this.db.transaction(STORE, "readonly");
    const rows = await request(tx.objectStore(STORE).getAll(this._range(vehicle), limit));
    return rows.map(({ vehicle: _, ...position }) => position);
  }

  async remove(vehicle, stamps) {
    const tx = this.db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    for (const ts of stamps) store.delete([vehicle, ts]);
    await done(tx);
  }

  async count(vehicle) {
    const tx = this.db.transaction(STORE, "readonly");
    return request(tx.objectStore(STORE).count(this._range(vehicle)));
  }
}

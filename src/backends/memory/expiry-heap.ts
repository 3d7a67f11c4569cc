/** A binary min-heap of items ordered by `expiresAt`, so the expiry sweep looks only at the due ones. */
export interface Expiring {
  expiresAt: number;
}

export class ExpiryHeap<T extends Expiring> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].expiresAt <= item.expiresAt) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.siftDown(last, 0);
    return top;
  }

  /** Keep only the items `keep` accepts (drops entries that were settled or released). */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(this.items[i], i);
  }

  private siftDown(item: T, i: number): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1].expiresAt < items[child].expiresAt) child++;
      if (items[child].expiresAt >= item.expiresAt) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}

/**
 * A queue a callback-driven producer pushes into and one consumer iterates: how a framework that
 * reports a stream through callbacks (LangChain's token handlers) becomes an async iterable.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((step: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private ended = false;
  private error: { value: unknown } | undefined;

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) this.settle().resolve({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting) this.settle().resolve({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = { value: error };
    if (this.waiting) this.settle().reject(error);
  }

  private settle(): { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } {
    const resolve = this.waiting!;
    const reject = this.failWaiting!;
    this.waiting = undefined;
    this.failWaiting = undefined;
    return { resolve, reject };
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.error) return Promise.reject(this.error.value);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
      return: () => {
        this.ended = true;
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

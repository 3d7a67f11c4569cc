import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { percent } from './format.ts';

const STATE_CLASS: Record<string, string> = {
  running: 'info',
  completed: 'ok',
  stopped: 'bad',
  OK: 'ok',
  ALARM: 'bad',
  INSUFFICIENT_DATA: 'muted',
  closed: 'ok',
  open: 'bad',
  halfOpen: 'warn',
  pending: 'warn',
  approved: 'ok',
  consumed: 'ok',
  denied: 'bad',
  expired: 'muted',
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span class={`badge ${STATE_CLASS[value] ?? 'muted'}`}>{label ?? value}</span>;
}

export function Code({ code }: { code?: string | null }) {
  return code ? <code class="stopcode">{code}</code> : <span class="muted">—</span>;
}

/** A value against its limit: the text says it, the bar (decorative) shows it. */
export function Meter({ value, max, text }: { value: number; max?: number; text: string }) {
  const p = percent(value, max);
  const level = p === undefined ? '' : p >= 100 ? 'full' : p >= 80 ? 'high' : '';
  return (
    <div class="meter">
      <span>{text}</span>
      {p !== undefined && (
        <span class={`bar ${level}`} aria-hidden="true">
          <span style={{ width: `${p}%` }} />
        </span>
      )}
    </div>
  );
}

export function ErrorBox({ error }: { error?: Error }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <p class="error" role="alert">
      {code && <code>{code}</code>} {error.message}
    </p>
  );
}

export function Pager({ page, pages, total, onPage, noun }: { page: number; pages: number; total: number; onPage: (page: number) => void; noun: string }) {
  return (
    <nav class="pager" aria-label={`${noun} pages`}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ← Newer
      </button>
      <span>
        Page {page.toLocaleString('en-US')} of {pages.toLocaleString('en-US')} · {total.toLocaleString('en-US')} {noun}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Older →
      </button>
    </nav>
  );
}

export function Select({
  label,
  value,
  options,
  onChange,
  id,
}: {
  label: string;
  value: string;
  options: Array<string | [string, string]>;
  onChange: (value: string) => void;
  id: string;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map((o) => {
          const [v, text] = Array.isArray(o) ? o : [o, o];
          return (
            <option key={v} value={v}>
              {text}
            </option>
          );
        })}
      </select>
    </div>
  );
}

export interface ConfirmProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** A reason field, sent with the action (recorded in the audit log). */
  reason?: boolean;
  onConfirm: (reason: string) => Promise<unknown>;
  onClose: () => void;
}

/** A modal confirmation (native <dialog>): names what will happen; shows the refusal if the action fails. */
export function Confirm({ title, children, confirmLabel, danger, reason, onConfirm, onClose }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const [text, setText] = useState('');
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.open && dialog.close();
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm(text.trim());
      onClose();
    } catch (e) {
      setError(e as Error);
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onClose} onCancel={onClose}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="confirm-title">{title}</h2>
        <div class="confirm-body">{children}</div>
        {reason && (
          <div class="field">
            <label for="confirm-reason">Reason (recorded in the audit log)</label>
            <input id="confirm-reason" type="text" maxLength={500} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          </div>
        )}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

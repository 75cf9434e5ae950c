import { parseAdminRows, pageServedBy, type AdminRow } from "../parse/admin";
import type { WebWriteMessage, WebWriteResult } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { storedMessages, type StoredMessage } from "../runtime/db";
import { basicAuth, http, waitFor } from "../runtime/http";
import { lbMessagesUrl } from "./faultRun";

const MESSAGES = 6;

/** Scenario 2: form posts through the LB appear on the admin page with the right node names. */
export async function webWrite(ctx: DrillContext): Promise<WebWriteResult> {
  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const posts: Array<{ uid: string; status: number; servedBy: string }> = [];
  for (let i = 0; i < MESSAGES; i++) {
    const uid = series.uid(i);
    const form = new URLSearchParams({
      body: `drill form message ${i} <&> ü`,
      idempotency_key: uid,
    });
    const r = await http(lbMessagesUrl(ctx.outputs.lbUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    posts.push({ uid, status: r.status, servedBy: r.servedBy });
  }
  const started = Date.now();
  const stored =
    (await waitFor(
      async () => {
        const rows = await storedMessages(ctx, ctx.pgPrimary, series.prefix);
        return rows.length >= MESSAGES ? rows : undefined;
      },
      30_000,
      500,
    )) ?? (await storedMessages(ctx, ctx.pgPrimary, series.prefix));
  const waitedMs = Date.now() - started;
  const byUid = new Map<string, StoredMessage>(stored.map((s) => [s.uid, s]));

  const adminRows = new Map<string, AdminRow>();
  const adminServedBy = new Set<string>();
  for (let i = 0; i < ctx.appNodes.length; i++) {
    const page = await http(`${ctx.outputs.adminUrl}`, {
      headers: ctx.admin ? basicAuth(ctx.admin.user, ctx.admin.password) : {},
    });
    if (page.status !== 200) continue;
    adminServedBy.add(pageServedBy(page.text) ?? page.servedBy);
    for (const row of parseAdminRows(page.text)) adminRows.set(row.uid, row);
  }
  const messages: WebWriteMessage[] = posts.map((p) => {
    const s = byUid.get(p.uid);
    const row = adminRows.get(p.uid);
    return {
      uid: p.uid,
      status: p.status,
      servedBy: p.servedBy,
      producedBy: s?.producedBy ?? null,
      storedBy: s?.storedBy ?? null,
      onAdminPage: !!row && !!s && row.producedBy === s.producedBy && row.storedBy === s.storedBy,
    };
  });
  return {
    appNodes: ctx.appNodes.map((n) => n.name),
    messages,
    adminServedBy: [...adminServedBy],
    waitedMs,
  };
}

export interface AdminRow {
  uid: string;
  body: string;
  producedBy: string;
  storedBy: string;
}

function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .trim();
}

/**
 * Rows of the app's /admin table (columns: message_uid, body, produced by, produced at, stored by,
 * stored at), header rows skipped.
 */
export function parseAdminRows(html: string): AdminRow[] {
  const rows: AdminRow[] = [];
  for (const tr of html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)) {
    const cells = [...tr[1].matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => text(m[1]));
    if (cells.length < 6) continue;
    rows.push({ uid: cells[0], body: cells[1], producedBy: cells[2], storedBy: cells[4] });
  }
  return rows;
}

/** The node named on the page ("Served by <strong id=served-by>…"). */
export function pageServedBy(html: string): string | null {
  const m = /id="served-by">([^<]*)</.exec(html);
  return m ? text(m[1]) : null;
}

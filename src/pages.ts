/** The short pages a browser sees when the gateway answers itself. No stack, no detail. */
export interface Page {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Access refused',
  404: 'Not found',
  500: 'Gateway error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

export function errorPage(status: number, message: string): Page {
  const title = TITLES[status] ?? 'Error';
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1><p>${escapeHtml(message)}</p></body></html>\n`;
  return {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
    },
    body,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

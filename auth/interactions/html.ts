/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A complete, minimal HTML page. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin:.5rem 0 .2rem}
input[type=text],input[type=password],input[type=date]{padding:.4rem;width:100%;box-sizing:border-box}
button{padding:.5rem 1rem;margin:.5rem .5rem .5rem 0}
.error{color:#a00;font-weight:bold}
.granular{margin-left:1.5rem}
ul{list-style:none;padding:0}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

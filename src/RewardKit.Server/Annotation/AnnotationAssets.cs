namespace RewardKit.Server.Annotation;

/// <summary>The app's only stylesheet and script, served from memory (no build step, no CDN).</summary>
public static class AnnotationAssets
{
    /// <summary>The stylesheet (<c>/assets/annotate.css</c>).</summary>
    public const string Css = """
        :root { --ink: #1b1f24; --muted: #4a5360; --line: #c4cad3; --accent: #0b57d0; --ok: #0b6b2f; --bad: #a1111b; --panel: #f5f7fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
        header { background: var(--ink); padding: .5rem 1rem; }
        header nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
        header a, header .who { color: #fff; }
        header button { font: inherit; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.15rem; margin: 1rem 0 .5rem; }
        a { color: var(--accent); }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 1rem; top: .5rem; background: #fff; color: var(--ink); padding: .25rem .5rem; z-index: 2; }
        .inline { display: inline; margin: 0; }
        .meta, .hint { color: var(--muted); }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin: 0; }
        .responses { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
        .response { border: 2px solid transparent; border-radius: 8px; padding: .25rem; }
        .response.current { border-color: var(--accent); }
        fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .5rem 1rem; }
        .choices label { display: inline-flex; gap: .35rem; align-items: center; margin: .25rem 1.25rem .25rem 0; }
        .reason label, .stack > label { display: block; font-weight: 600; margin-top: .5rem; }
        .para { white-space: pre-wrap; overflow-wrap: anywhere; }
        textarea, input[type=text], input[type=password], select { font: inherit; padding: .4rem; border: 1px solid var(--muted); border-radius: 4px; }
        textarea { width: 100%; }
        .stack input[type=text], .stack input[type=password] { width: min(36rem, 100%); }
        button { font: inherit; padding: .45rem 1rem; border-radius: 4px; border: 1px solid var(--ink); background: #fff; color: var(--ink); cursor: pointer; }
        button.primary, .stack button { background: var(--accent); border-color: var(--accent); color: #fff; margin-top: .75rem; }
        kbd { font: .8em ui-monospace, monospace; border: 1px solid var(--muted); border-radius: 3px; padding: 0 .3em; background: #fff; color: var(--ink); }
        :focus-visible { outline: 3px solid #e8a200; outline-offset: 2px; }
        .alert { color: var(--bad); border-left: 4px solid var(--bad); padding: .5rem .75rem; background: #fdf1f2; }
        .saved { color: var(--ok); border-left: 4px solid var(--ok); padding: .5rem .75rem; background: #eef8f1; }
        .shortcuts { margin-top: 2rem; border-top: 1px solid var(--line); }
        .shortcuts dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        .shortcuts dd { margin: 0; }
        table { border-collapse: collapse; margin: .5rem 0 1rem; }
        caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
        th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; }
        thead th { background: var(--panel); }
        .token { font-size: 1.05rem; user-select: all; }
        .answer-view dt { font-weight: 600; }
        .answer-view dd { margin: 0 0 .75rem; }
        """;

    /// <summary>The keyboard shortcuts (<c>/assets/annotate.js</c>); every action also works without it.</summary>
    public const string Script = """
        (() => {
          'use strict';
          const form = document.querySelector('form.answer');
          const typing = el => el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' ||
            (el.tagName === 'INPUT' && !['radio', 'checkbox', 'hidden', 'submit', 'button'].includes(el.type));
          let current = 0;
          const sections = () => form ? [...form.querySelectorAll('.response')] : [];
          const highlight = () => sections().forEach((s, i) => s.classList.toggle('current', i === current));
          const check = (name, value) => {
            const input = form.querySelector(`input[name="${name}"][value="${value}"]`);
            if (input) { input.checked = true; input.focus(); }
          };
          const pairwise = key => {
            const map = { a: ['choice', 'A'], b: ['choice', 'B'], t: ['choice', 'tie'], 1: ['strength', '1'], 2: ['strength', '2'], 3: ['strength', '3'] };
            if (!map[key]) return false;
            check(...map[key]);
            return true;
          };
          const ranking = key => {
            const selects = [...form.querySelectorAll('select')];
            if (key === 'backspace') { selects.forEach(s => { s.value = ''; }); return true; }
            const d = Number.parseInt(key, 10);
            if (!(d >= 1 && d <= selects.length)) return false;
            if (!selects[d - 1].value) selects[d - 1].value = String(selects.filter(s => s.value).length + 1);
            return true;
          };
          const rating = key => {
            const n = sections().length;
            if (key === 'j' || key === 'arrowdown') current = Math.min(n - 1, current + 1);
            else if (key === 'k' || key === 'arrowup') current = Math.max(0, current - 1);
            else {
              const d = Number.parseInt(key, 10);
              if (!(d >= 1 && d <= 5)) return false;
              check(`rating_${current}`, d);
              current = Math.min(n - 1, current + 1);
            }
            highlight();
            sections()[current].scrollIntoView({ block: 'nearest' });
            return true;
          };
          document.addEventListener('keydown', e => {
            if (e.altKey || e.metaKey) return;
            const t = e.target;
            if (t.tagName === 'TEXTAREA') {
              if (e.key === 'Escape') t.blur();
              else if (e.key === 'Enter' && e.ctrlKey && form) { e.preventDefault(); form.requestSubmit(); }
              return;
            }
            if (e.ctrlKey || typing(t)) return;
            const key = e.key.toLowerCase();
            if (key === 'g') { location.href = '/guidelines'; return; }
            if (key === 'q') { location.href = '/next'; return; }
            if (!form) return;
            if (key === 'r') { e.preventDefault(); document.getElementById('reason').focus(); return; }
            if (key === 'enter') {
              if (t.closest('a, button')) return;
              e.preventDefault();
              form.requestSubmit();
              return;
            }
            const handled = { pairwise, ranking, rating }[form.dataset.mode]?.(key);
            if (handled) e.preventDefault();
          });
          if (form && form.dataset.mode === 'rating') highlight();
        })();
        """;
}

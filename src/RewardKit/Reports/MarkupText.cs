using System.Globalization;
using System.Text;

namespace RewardKit.Reports;

/// <summary>Text and number formatting shared by the SVG and HTML writers.</summary>
public static class MarkupText
{
    /// <summary>
    /// Escapes text for XML/HTML content and attribute values (&amp; &lt; &gt; " '). Characters XML cannot carry
    /// (control characters other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); }
                    else if (char.IsSurrogate(c) || c == '\uFFFE' || c == '\uFFFF' || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) sb.Append('\uFFFD');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A value for tables: 4 decimals, invariant culture; "n/a" when null, "NaN"/"∞" kept visible.</summary>
    public static string Number(double? v, string format = "0.0000") =>
        v is not { } x ? "n/a" : double.IsNaN(x) ? "NaN" : double.IsInfinity(x) ? (x > 0 ? "∞" : "−∞") : x.ToString(format, CultureInfo.InvariantCulture);
}

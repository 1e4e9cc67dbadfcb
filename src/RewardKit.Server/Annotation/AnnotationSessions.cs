using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using RewardKit.Annotation;

namespace RewardKit.Server.Annotation;

/// <summary>
/// Who is signed in (the invite token in an HttpOnly, SameSite=Strict cookie; the database keeps only its sha256) and
/// the CSRF tokens of every form. A form's token is HMAC-SHA256(project key, nonce cookie ‖ sha256 of the session token):
/// a page of another site can neither read it nor make it, a token from one session fails in another, and the key lives
/// in the database so tokens stay valid across restarts (the framework's antiforgery keys would not without a key store).
/// </summary>
public sealed class AnnotationSessions(AnnotationStore store)
{
    /// <summary>The cookie holding the invite token.</summary>
    public const string SessionCookie = "rk_annotator";

    /// <summary>The cookie holding the random CSRF nonce.</summary>
    public const string NonceCookie = "rk_csrf";

    /// <summary>The form field every POST must carry.</summary>
    public const string CsrfField = "csrf";

    readonly byte[] _key = store.SecretKey();

    /// <summary>The signed-in annotator, or null (no cookie, or a token that is not, or no longer, valid).</summary>
    public Annotator? Current(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(Annotator), out var cached)) return cached as Annotator;
        var annotator = store.FindAnnotator(context.Request.Cookies[SessionCookie]);
        context.Items[typeof(Annotator)] = annotator;
        return annotator;
    }

    /// <summary>Signs <paramref name="token"/>'s holder in (the cookie lives for the browser session).</summary>
    public void SignIn(HttpContext context, string token)
    {
        context.Response.Cookies.Append(SessionCookie, token, CookieOptions(context));
        context.Items.Remove(typeof(Annotator));
        context.Items[SessionCookie] = token; // the CSRF token of the page rendered next binds to the new session
    }

    /// <summary>Signs out.</summary>
    public void SignOut(HttpContext context)
    {
        context.Response.Cookies.Delete(SessionCookie, CookieOptions(context));
        context.Items[SessionCookie] = "";
    }

    /// <summary>The CSRF token for forms on the page being rendered (sets the nonce cookie when the browser has none).</summary>
    public string CsrfToken(HttpContext context)
    {
        var nonce = context.Request.Cookies[NonceCookie];
        if (context.Items.TryGetValue(NonceCookie, out var fresh)) nonce = (string)fresh!;
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 64)
        {
            nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            context.Response.Cookies.Append(NonceCookie, nonce, CookieOptions(context));
            context.Items[NonceCookie] = nonce;
        }
        return Sign(nonce, SessionToken(context));
    }

    /// <summary>Null when <paramref name="submitted"/> is this browser session's CSRF token, else the message for the 403.</summary>
    public string? CsrfProblem(HttpContext context, string? submitted)
    {
        var nonce = context.Request.Cookies[NonceCookie];
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 64)
            return "the CSRF cookie is missing; enable cookies for this site, reload the page and submit again.";
        if (string.IsNullOrEmpty(submitted)) return "the form has no CSRF token; reload the page and submit again.";
        var expected = Encoding.ASCII.GetBytes(Sign(nonce, SessionToken(context)));
        var given = Encoding.UTF8.GetBytes(submitted);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? null
            : "the form's CSRF token does not match this session (a forged request, or a page from before you signed in or out); reload the page and submit again.";
    }

    string? SessionToken(HttpContext context) =>
        context.Items.TryGetValue(SessionCookie, out var token) ? (string?)token : context.Request.Cookies[SessionCookie];

    string Sign(string nonce, string? sessionToken)
    {
        var session = string.IsNullOrEmpty(sessionToken) ? "-" : AnnotationStore.HashToken(sessionToken);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(nonce + "\n" + session)));
    }

    static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/", IsEssential = true,
    };
}

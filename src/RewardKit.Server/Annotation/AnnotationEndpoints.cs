using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.Annotation;

namespace RewardKit.Server.Annotation;

/// <summary>
/// The annotation app as a feature: <see cref="AddAnnotation"/> registers its services, <see cref="UseAnnotation"/> its
/// middleware (error pages without stack traces, security headers, rate limits per token) and
/// <see cref="MapAnnotation"/> its pages. Every POST checks, in order: form type and size (415, 413), CSRF token (403),
/// sign-in (401), the task (404), that it was handed to this annotator (403), the answer (400, 413) and that it is
/// the first answer (409); a stored answer is acknowledged with 303 to the next task only after it is durable.
/// </summary>
public static partial class AnnotationEndpoints
{
    /// <summary>Registers the store, sessions, options and the per-token rate limiter.</summary>
    public static IServiceCollection AddAnnotation(this IServiceCollection services, AnnotationServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(_ => AnnotationStore.Open(options.Database));
        services.AddSingleton<AnnotationSessions>();
        services.AddSingleton(_ => PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = options.RequestsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })));
        return services;
    }

    /// <summary>Error pages, security headers and rate limits; call before <see cref="MapAnnotation"/>.</summary>
    public static IApplicationBuilder UseAnnotation(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteExceptionPage });
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var message = status switch
            {
                404 => $"there is no page at {http.Request.Path}; open your queue at /next.",
                405 => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
                _ => "the request could not be served.",
            };
            await WritePage(http, status, AnnotationPages.Error(new PageContext(null, ""), status, message));
        });
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            await next(context);
        });
        app.Use(LimitRate);
        return app;
    }

    static async Task LimitRate(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/assets") || path.StartsWithSegments("/healthz"))
        {
            await next(context);
            return;
        }
        var services = context.RequestServices;
        var annotator = services.GetRequiredService<AnnotationSessions>().Current(context);
        var key = annotator is not null ? "token:" + annotator.Id : "ip:" + context.Connection.RemoteIpAddress;
        using var lease = services.GetRequiredService<PartitionedRateLimiter<string>>().AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            await next(context);
            return;
        }
        var limit = services.GetRequiredService<AnnotationServerOptions>().RequestsPerMinute;
        int wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 60;
        context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var who = annotator is not null ? "this invite token" : "this address";
        await WritePage(context, 429, AnnotationPages.Error(new PageContext(annotator, ""), 429,
            $"too many requests from {who}: the limit is {limit} per minute. Wait {wait} seconds and try again."));
    }

    static async Task WriteExceptionPage(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, message) = error switch
        {
            BadHttpRequestException { StatusCode: 413 } => (413, $"the request body is too large; the limit is {context.RequestServices.GetRequiredService<AnnotationServerOptions>().MaxFormBytes} bytes."),
            BadHttpRequestException b => (b.StatusCode, "the request is malformed; submit the form from the page."),
            _ => (500, "an internal error; it was logged, please report it."),
        };
        await WritePage(context, status, AnnotationPages.Error(new PageContext(null, ""), status, message));
    }

    static Task WritePage(HttpContext context, int status, string html)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html);
    }

    /// <summary>Maps the pages: sign-in, queue, tasks, guidelines, admin, assets and <c>/healthz</c>.</summary>
    public static IEndpointRouteBuilder MapAnnotation(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", (HttpContext c, AnnotationSessions s) => SeeOther(s.Current(c) is null ? "/login" : "/next"));
        app.MapGet("/login", (HttpContext c, AnnotationSessions s) => Html(c, 200, AnnotationPages.Login(Page(c, s), null)));
        app.MapPost("/login", SignInAsync);
        app.MapPost("/logout", SignOutAsync);
        app.MapGet("/next", Next);
        app.MapGet("/task/{id}", ShowTask);
        app.MapPost("/task/{id}", SubmitAsync);
        app.MapGet("/guidelines", (HttpContext c, AnnotationSessions s, AnnotationStore store) =>
            Html(c, 200, AnnotationPages.Guidelines(Page(c, s), store.Settings().Guidelines)));
        app.MapGet("/admin", ShowAdmin);
        app.MapPost("/admin/invite", InviteAsync);
        app.MapGet("/assets/annotate.css", () => Results.Text(AnnotationAssets.Css, "text/css; charset=utf-8"));
        app.MapGet("/assets/annotate.js", () => Results.Text(AnnotationAssets.Script, "text/javascript; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text("ok"));
        return app;
    }

    static PageContext Page(HttpContext context, AnnotationSessions sessions) => new(sessions.Current(context), sessions.CsrfToken(context));

    static IResult Html(HttpContext context, int status, string html) => Results.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);

    static IResult Error(HttpContext context, AnnotationSessions sessions, int status, string message) =>
        Html(context, status, AnnotationPages.Error(Page(context, sessions), status, message));

    static IResult SeeOther(string location) => new SeeOtherResult(location);

    sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    /// <summary>Text from a request shown back in a message: at most 80 characters (the page escapes it).</summary>
    static string Shown(string text) => text.Length <= 80 ? text : text[..80] + "…";

    /// <summary>Reads a POSTed form and checks its CSRF token; returns the form, or the error page to send.</summary>
    static async Task<(IFormCollection? Form, IResult? Error)> ReadFormAsync(HttpContext context, AnnotationSessions sessions)
    {
        var options = context.RequestServices.GetRequiredService<AnnotationServerOptions>();
        if (!context.Request.HasFormContentType)
            return (null, Error(context, sessions, 415, "send the form as application/x-www-form-urlencoded (submit it from the page)."));
        if (context.Request.ContentLength > options.MaxFormBytes)
            return (null, Error(context, sessions, 413, $"the form is {context.Request.ContentLength} bytes; the limit is {options.MaxFormBytes}."));
        IFormCollection form;
        try
        {
            context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions
            {
                ValueCountLimit = 32, KeyLengthLimit = 64, ValueLengthLimit = options.MaxFormBytes, MultipartBodyLengthLimit = options.MaxFormBytes,
            }));
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return (null, Error(context, sessions, 413, $"the form is larger than {options.MaxFormBytes} bytes; shorten it."));
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.Ordinal))
        {
            return (null, Error(context, sessions, 413, $"the form has too many or too long fields ({e.Message})."));
        }
        catch (InvalidDataException e)
        {
            return (null, Error(context, sessions, 400, $"the form could not be read ({e.Message}); submit plain text from the page."));
        }
        return sessions.CsrfProblem(context, form[AnnotationSessions.CsrfField]) is { } problem
            ? (null, Error(context, sessions, 403, problem))
            : (form, null);
    }
}

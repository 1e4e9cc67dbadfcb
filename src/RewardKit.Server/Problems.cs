using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace RewardKit.Server;

/// <summary>RFC 7807 problem details with a message saying what to fix.</summary>
public static class Problems
{
    static ProblemHttpResult Make(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: $"https://www.rfc-editor.org/rfc/rfc9110#status.{status}");

    /// <summary>400: the request is malformed.</summary>
    public static ApiProblem BadRequest(string detail) => new(Make(400, "Bad request", detail));

    /// <summary>401: no (usable) credentials.</summary>
    public static ApiProblem Unauthorized(string detail) => new(Make(401, "Unauthorized", detail), ("WWW-Authenticate", "Bearer"));

    /// <summary>403: wrong credentials.</summary>
    public static ApiProblem Forbidden(string detail) => new(Make(403, "Forbidden", detail));

    /// <summary>404: e.g. an unknown model.</summary>
    public static ApiProblem NotFound(string detail) => new(Make(404, "Not found", detail));

    /// <summary>408: the body arrived too slowly (Kestrel's MinRequestBodyDataRate).</summary>
    public static ApiProblem RequestTimeout(string detail) => new(Make(408, "Request timeout", detail));

    /// <summary>422: well-formed, but the model cannot score it (e.g. it gave a non-finite reward).</summary>
    public static ApiProblem Unprocessable(string detail) => new(Make(422, "Unprocessable content", detail));

    /// <summary>413: more than the limits allow.</summary>
    public static ApiProblem TooLarge(string detail) => new(Make(413, "Payload too large", detail));

    /// <summary>415: not JSON.</summary>
    public static ApiProblem UnsupportedMediaType(string detail) => new(Make(415, "Unsupported media type", detail));

    /// <summary>429 with Retry-After: the queue is full.</summary>
    public static ApiProblem TooManyRequests(string detail, int retryAfterSeconds = 1) =>
        new(Make(429, "Too many requests", detail), ("Retry-After", retryAfterSeconds.ToString(CultureInfo.InvariantCulture)));

    /// <summary>499 (nginx's "client closed request"): the client went away; nobody reads it, the metrics count it.</summary>
    public static ApiProblem ClientClosed() => new(Make(499, "Client closed request", "the client closed the connection."));

    /// <summary>503 with Retry-After: not ready, or timed out.</summary>
    public static UnavailableProblem Unavailable(string detail, int retryAfterSeconds = 1) =>
        new(Make(503, "Service unavailable", detail), retryAfterSeconds);

    /// <summary>401 and 403 on every endpoint of <paramref name="group"/>: the API-key middleware answers them before any endpoint runs.</summary>
    public static RouteGroupBuilder ProducesAuthProblems(this RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.WithMetadata(ApiProblem.Metadata(401), ApiProblem.Metadata(403));
    }

    internal static async Task WriteAsync(ProblemHttpResult problem, HttpContext context, (string Name, string Value)? header)
    {
        if (header is { } h) context.Response.Headers[h.Name] = h.Value;
        await problem.ExecuteAsync(context).ConfigureAwait(false);
    }
}

/// <summary>
/// A problem answer of a scoring endpoint. Its type declares the statuses such an endpoint can answer (400 malformed body,
/// 404 unknown model, 408 body too slow, 413 over a limit, 415 not JSON, 422 a non-finite reward, 429 queue full with
/// Retry-After), so an endpoint returning it lists them in the OpenAPI document; 503 is <see cref="UnavailableProblem"/>.
/// </summary>
public sealed class ApiProblem : IResult, IStatusCodeHttpResult, IValueHttpResult<ProblemDetails>, IEndpointMetadataProvider
{
    static readonly int[] Statuses = [400, 404, 408, 413, 415, 422, 429];
    readonly ProblemHttpResult _problem;
    readonly (string Name, string Value)? _header;

    internal ApiProblem(ProblemHttpResult problem, (string Name, string Value)? header = null) => (_problem, _header) = (problem, header);

    /// <inheritdoc/>
    public int? StatusCode => _problem.StatusCode;

    /// <inheritdoc/>
    public ProblemDetails Value => _problem.ProblemDetails;

    /// <inheritdoc/>
    public Task ExecuteAsync(HttpContext httpContext) => Problems.WriteAsync(_problem, httpContext, _header);

    /// <inheritdoc/>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var status in Statuses) builder.Metadata.Add(Metadata(status));
    }

    internal static ProducesResponseTypeMetadata Metadata(int status) => new(status, typeof(ProblemDetails), ["application/problem+json"]);
}

/// <summary>503 with Retry-After: no model is loaded yet, or the request timed out. Its type declares the 503.</summary>
public sealed class UnavailableProblem : IResult, IStatusCodeHttpResult, IValueHttpResult<ProblemDetails>, IEndpointMetadataProvider
{
    readonly ProblemHttpResult _problem;
    readonly int _retryAfterSeconds;

    internal UnavailableProblem(ProblemHttpResult problem, int retryAfterSeconds) => (_problem, _retryAfterSeconds) = (problem, retryAfterSeconds);

    /// <inheritdoc/>
    public int? StatusCode => _problem.StatusCode;

    /// <inheritdoc/>
    public ProblemDetails Value => _problem.ProblemDetails;

    /// <inheritdoc/>
    public Task ExecuteAsync(HttpContext httpContext) =>
        Problems.WriteAsync(_problem, httpContext, ("Retry-After", _retryAfterSeconds.ToString(CultureInfo.InvariantCulture)));

    /// <inheritdoc/>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(ApiProblem.Metadata(StatusCodes.Status503ServiceUnavailable));
    }
}

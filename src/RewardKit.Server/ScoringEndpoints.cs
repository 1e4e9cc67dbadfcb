using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.Inference;

namespace RewardKit.Server;

/// <summary>The /v1 scoring endpoints: bodies are read with explicit limits so every bad input gets a 400/413 problem.</summary>
public static class ScoringEndpoints
{
    /// <summary>JSON settings of the wire format (snake_case, unknown fields refused).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false, // a key repeated in any object is refused, not "last one wins"
    };

    /// <summary>
    /// Maps /v1/score, /v1/rank, /v1/compare, /v1/best-of-n, /v1/models and /v1/drift. The statuses each can answer come
    /// from its typed result (<see cref="ApiProblem"/>, <see cref="UnavailableProblem"/>) and, for 401/403, from the group.
    /// </summary>
    public static RouteGroupBuilder MapScoring(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").ProducesAuthProblems();
        v1.MapPost("/score", (HttpContext c, ModelHost h, RewardServerOptions o) => Handle<ScoreRequest, ScoreResponse>(c, h, o, Score))
          .Accepts<ScoreRequest>("application/json").WithName("Score");
        v1.MapPost("/rank", (HttpContext c, ModelHost h, RewardServerOptions o) => Handle<RankRequest, RankResponse>(c, h, o, Rank))
          .Accepts<RankRequest>("application/json").WithName("Rank");
        v1.MapPost("/best-of-n", (HttpContext c, ModelHost h, RewardServerOptions o) => Handle<RankRequest, BestOfNResponse>(c, h, o, BestOfN))
          .Accepts<RankRequest>("application/json").WithName("BestOfN");
        v1.MapPost("/compare", (HttpContext c, ModelHost h, RewardServerOptions o) => Handle<CompareRequest, CompareResponse>(c, h, o, Compare))
          .Accepts<CompareRequest>("application/json").WithName("Compare");
        v1.MapGet("/models", Ok<ModelsResponse> (ModelHost host) =>
        {
            var list = new List<ModelDto>();
            if (host.Acquire() is { } lease)
                using (lease)
                {
                    var s = lease.Model; var md = s.Model.Metadata;
                    list.Add(new ModelDto(md.Name, md.Version, s.RegistryVersion, md.Template, md.MaxLength, md.RewardMean, md.RewardStd,
                        md.Temperature, ModelHost.FolderName(s.Source), s.LoadedUtc, s.Scorer.Cache.HitRate, s.Scorer.Cache.Count));
                }
            return TypedResults.Ok(new ModelsResponse(list, host.PublicError));
        }).WithName("Models");
        v1.MapGet("/drift", Results<Ok<DriftReport>, UnavailableProblem> (ModelHost host) =>
        {
            if (host.Acquire() is not { } lease) return Problems.Unavailable(host.PublicError ?? "no model loaded yet.");
            using (lease) return TypedResults.Ok(lease.Model.Drift.Report());
        }).WithName("Drift");
        return v1;
    }

    delegate Task<Results<Ok<TResponse>, ApiProblem, UnavailableProblem>> Work<in TRequest, TResponse>(
        TRequest request, ServedModel model, RewardServerOptions options, CancellationToken cancellationToken);

    static async Task<Results<Ok<TResponse>, ApiProblem, UnavailableProblem>> Handle<TRequest, TResponse>(
        HttpContext context, ModelHost host, RewardServerOptions options, Work<TRequest, TResponse> work) where TRequest : class
    {
        var (request, problem) = await ReadAsync<TRequest>(context, options).ConfigureAwait(false);
        if (problem is not null) return problem;
        if (host.Acquire() is not { } lease)
            return Problems.Unavailable(host.PublicError ?? "the model is still loading; retry shortly (see GET /readyz).");
        using var _ = lease;
        var wanted = request switch { ScoreRequest s => s.Model, RankRequest r => r.Model, CompareRequest c => c.Model, _ => null };
        var name = lease.Model.Model.Metadata.Name;
        if (wanted is not null && wanted != name)
            return Problems.NotFound($"unknown model '{wanted}'; this service serves '{name}' (GET /v1/models); omit \"model\" to use it.");
        // The timeout runs on the service's TimeProvider, so tests drive it with a fake clock instead of waiting.
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.RequestTimeoutSeconds), time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token);
        try
        {
            return await work(request!, lease.Model, options, timeout.Token).ConfigureAwait(false);
        }
        catch (QueueFullException e)
        {
            return Problems.TooManyRequests(e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return Problems.ClientClosed();
        }
        catch (OperationCanceledException)
        {
            return Problems.Unavailable($"the request took longer than {options.RequestTimeoutSeconds:0.###} s (RequestTimeoutSeconds); retry or send fewer items.");
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest(e.Message);
        }
        catch (NonFiniteRewardException e)
        {
            return Problems.Unprocessable(ItemLabel(request!, e.Index) + e.Message);
        }
    }

    /// <summary>Reads a JSON body of at most <see cref="RewardServerOptions.MaxBodyBytes"/>; returns the problem to answer on failure.</summary>
    static async Task<(T?, ApiProblem?)> ReadAsync<T>(HttpContext context, RewardServerOptions options) where T : class
    {
        var request = context.Request;
        if (request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !type.Contains("+json", StringComparison.OrdinalIgnoreCase))
            return (null, Problems.UnsupportedMediaType($"Content-Type is '{request.ContentType}'; send the body as application/json."));
        if (request.ContentLength > options.MaxBodyBytes)
            return (null, Problems.TooLarge($"the body is {request.ContentLength} bytes; the limit is {options.MaxBodyBytes} (MaxBodyBytes); split the items over several requests."));
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false }) limit.MaxRequestBodySize = options.MaxBodyBytes + 1;
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > options.MaxBodyBytes)
                    return (null, Problems.TooLarge($"the body exceeds the limit of {options.MaxBodyBytes} bytes (MaxBodyBytes); split the items over several requests."));
            }
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            return (null, e.StatusCode switch
            {
                413 => Problems.TooLarge($"the body exceeds the limit of {options.MaxBodyBytes} bytes (MaxBodyBytes)."),
                408 => Problems.RequestTimeout(DescribeBadBody(e)),
                _ => Problems.BadRequest(DescribeBadBody(e)),
            });
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports some malformed chunked bodies (a chunk size that overflows) as a bare IOException.
            return (null, Problems.BadRequest($"the body could not be read: {e.Message.TrimEnd('.')}; send a well-formed body (Content-Length, or valid chunked encoding)."));
        }
        if (body.Length == 0) return (null, Problems.BadRequest($"the body is empty; send a JSON object, e.g. {Example<T>()}."));
        try
        {
            var value = JsonSerializer.Deserialize<T>(body, Json);
            return value is null ? (null, Problems.BadRequest($"the body is JSON null; send a JSON object, e.g. {Example<T>()}.")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest($"{JsonErrors.Describe<T>(e, body)} Expected e.g. {Example<T>()}."));
        }
    }

    /// <summary>The detail of a problem for a body Kestrel refused while it was read (bad chunk, too slow, ...).</summary>
    public static string DescribeBadBody(BadHttpRequestException e) => e.StatusCode switch
    {
        408 => $"the body arrived too slowly ({e.Message.TrimEnd('.')}); send the whole body promptly, or fewer items per request.",
        413 => $"the body is too large ({e.Message.TrimEnd('.')}).",
        _ => $"the body is malformed ({e.Message.TrimEnd('.')}); send a well-formed body (Content-Length, or valid chunked encoding).",
    };

    /// <summary>"items[3]: ", "responses[1]: " or "a: " for the item a non-finite reward came from.</summary>
    static string ItemLabel(object request, int index) => request switch
    {
        ScoreRequest => $"items[{index}]: ",
        RankRequest => $"responses[{index}]: ",
        CompareRequest => index == 0 ? "a: " : "b: ",
        _ => "",
    };

    static string Example<T>() => typeof(T).Name switch
    {
        nameof(ScoreRequest) => "{\"items\": [{\"prompt\": \"...\", \"response\": \"...\"}]}",
        nameof(CompareRequest) => "{\"prompt\": \"...\", \"a\": \"...\", \"b\": \"...\"}",
        _ => "{\"prompt\": \"...\", \"responses\": [\"...\", \"...\"]}",
    };

    static ApiProblem? CheckText(string? text, string field, RewardServerOptions options) =>
        text is null ? Problems.BadRequest($"{field} is missing or null; send a string (\"\" when empty).")
        : text.Length > options.MaxTextLength ? Problems.TooLarge($"{field} is {text.Length} characters; the limit is {options.MaxTextLength} (MaxTextLength).")
        : null;

    static ApiProblem? CheckResponses(RankRequest r, RewardServerOptions options, int minimum)
    {
        if (CheckText(r.Prompt, "prompt", options) is { } p) return p;
        if (r.Responses is null) return Problems.BadRequest("responses is missing; send an array of response strings.");
        if (r.Responses.Count < minimum) return Problems.BadRequest($"responses has {r.Responses.Count} entries; send at least {minimum}.");
        if (r.Responses.Count > options.MaxItems) return Problems.TooLarge($"responses has {r.Responses.Count} entries; the limit is {options.MaxItems} (MaxItems); split the request.");
        for (var i = 0; i < r.Responses.Count; i++)
            if (CheckText(r.Responses[i], $"responses[{i}]", options) is { } e) return e;
        return null;
    }

    static async Task<Results<Ok<ScoreResponse>, ApiProblem, UnavailableProblem>> Score(ScoreRequest request, ServedModel model, RewardServerOptions options, CancellationToken cancellationToken)
    {
        if (request.Items is null) return Problems.BadRequest("items is missing; send {\"items\": [{\"prompt\": \"...\", \"response\": \"...\"}]}.");
        if (request.Items.Count == 0) return Problems.BadRequest("items is empty; send at least one {\"prompt\", \"response\"} pair.");
        if (request.Items.Count > options.MaxItems) return Problems.TooLarge($"items has {request.Items.Count} entries; the limit is {options.MaxItems} (MaxItems); split the request.");
        var items = new ScoringItem[request.Items.Count];
        for (var i = 0; i < items.Length; i++)
        {
            if (request.Items[i] is not { } item) return Problems.BadRequest($"items[{i}] is null; send an object {{\"prompt\": \"...\", \"response\": \"...\"}}.");
            if (CheckText(item.Prompt, $"items[{i}].prompt", options) is { } p) return p;
            if (CheckText(item.Response, $"items[{i}].response", options) is { } r) return r;
            items[i] = new ScoringItem(item.Prompt!, item.Response!);
        }
        if (model.Model is IObjectiveRewardModel heads) return ScoreObjectives(heads, request.ObjectiveWeights, items, model, cancellationToken);
        if (request.ObjectiveWeights is not null)
            return Problems.BadRequest($"objective_weights: '{model.Model.Metadata.Name}' has one reward head, not objectives; omit objective_weights.");
        var (rewards, std) = await model.Scorer.ScoreRawWithStdAsync(items, cancellationToken).ConfigureAwait(false);   // std: ensembles only
        return TypedResults.Ok(Respond(model, [.. rewards.Select(r => (double)r)]) with { Std = std?.Select(s => (double)s).ToArray() });
    }

    /// <summary>The response for raw rewards (recorded for drift): normalised and calibrated forms beside them.</summary>
    static ScoreResponse Respond(ServedModel model, double[] raw)
    {
        model.Drift.Add(raw);
        var scores = raw.Select(model.Scorer.ToScore).ToArray();
        var md = model.Model.Metadata;
        return new ScoreResponse(md.Name, md.Version, raw, [.. scores.Select(s => s.Normalized)], [.. scores.Select(s => s.Calibrated)], model.Scorer.Temperature);
    }

    /// <summary>
    /// A multi-objective model: every objective's reward in one forward pass (not cached or micro-batched), combined with the
    /// request's <c>objective_weights</c> or the model's own.
    /// </summary>
    static Results<Ok<ScoreResponse>, ApiProblem, UnavailableProblem> ScoreObjectives(IObjectiveRewardModel heads, List<double>? weights, ScoringItem[] items, ServedModel model, CancellationToken cancellationToken)
    {
        var objectives = heads.Objectives;
        if (weights is not null)
        {
            try { objectives = objectives.WithWeights(weights); }
            catch (ArgumentException e) { return Problems.BadRequest($"objective_weights: {e.Message}"); }
        }
        var sequences = items.Select(i => heads.Encode(i.Prompt, i.Response)).ToArray();
        int k = objectives.Count;
        var outputs = new float[items.Length * k];   // (n, K)
        heads.ScoreObjectives(sequences, outputs, cancellationToken);
        var raw = new double[items.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            var row = outputs.AsSpan(i * k, k);
            foreach (var value in row)
                if (!float.IsFinite(value)) throw new NonFiniteRewardException(i, value, model.Model.Metadata.Name);
            raw[i] = objectives.Combine(row);
        }
        var byName = objectives.Names.Select((name, j) => (name, j)).ToDictionary(x => x.name, x => Enumerable.Range(0, raw.Length).Select(i => (double)outputs[i * k + x.j]).ToArray());
        return TypedResults.Ok(Respond(model, raw) with { Objectives = byName, ObjectiveWeights = objectives.Weights });
    }

    static async Task<Results<Ok<RankResponse>, ApiProblem, UnavailableProblem>> Rank(RankRequest request, ServedModel model, RewardServerOptions options, CancellationToken cancellationToken)
    {
        if (CheckResponses(request, options, 1) is { } problem) return problem;
        var ranked = await model.Scorer.RankAsync(request.Prompt!, request.Responses!.Select(r => r!).ToList(), cancellationToken).ConfigureAwait(false);
        model.Drift.Add(ranked.Select(r => r.Score.Raw).ToArray());
        var md = model.Model.Metadata;
        return TypedResults.Ok(new RankResponse(md.Name, md.Version,
            ranked.Select(r => new RankedDto(r.Index, r.Score.Raw, r.Score.Normalized, r.ProbabilityBest)).ToList(), model.Scorer.Temperature));
    }

    static async Task<Results<Ok<BestOfNResponse>, ApiProblem, UnavailableProblem>> BestOfN(RankRequest request, ServedModel model, RewardServerOptions options, CancellationToken cancellationToken)
    {
        if (CheckResponses(request, options, 1) is { } problem) return problem;
        var responses = request.Responses!.Select(r => r!).ToList();
        var ranked = await model.Scorer.RankAsync(request.Prompt!, responses, cancellationToken).ConfigureAwait(false);
        var rewards = new double[ranked.Length];
        foreach (var r in ranked) rewards[r.Index] = r.Score.Raw;
        model.Drift.Add(rewards);
        var best = ranked[0];
        var md = model.Model.Metadata;
        return TypedResults.Ok(new BestOfNResponse(md.Name, md.Version, best.Index, responses[best.Index], best.Score.Raw, best.ProbabilityBest, rewards));
    }

    static async Task<Results<Ok<CompareResponse>, ApiProblem, UnavailableProblem>> Compare(CompareRequest request, ServedModel model, RewardServerOptions options, CancellationToken cancellationToken)
    {
        if ((CheckText(request.Prompt, "prompt", options) ?? CheckText(request.A, "a", options) ?? CheckText(request.B, "b", options)) is { } problem) return problem;
        var c = await model.Scorer.CompareAsync(request.Prompt!, request.A!, request.B!, cancellationToken).ConfigureAwait(false);
        model.Drift.Add([c.A.Raw, c.B.Raw]);
        var md = model.Model.Metadata;
        return TypedResults.Ok(new CompareResponse(md.Name, md.Version, c.A.Raw, c.B.Raw, c.ProbabilityAPreferred, c.Temperature));
    }

    /// <summary>Records request count and duration per endpoint (route pattern) for /metrics.</summary>
    public static async Task MeasureAsync(HttpContext context, Func<Task> next, ServerMetrics metrics)
    {
        var started = Stopwatch.GetTimestamp();
        try { await next().ConfigureAwait(false); }
        finally
        {
            var endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.Request(endpoint, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
        }
    }
}

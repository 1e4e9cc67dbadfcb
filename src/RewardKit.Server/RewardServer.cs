using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using RewardKit.Inference;

namespace RewardKit.Server;

/// <summary>
/// Builds RewardKit's HTTP service; <c>Program.cs</c>, <c>rewardkit serve</c> and <c>rewardkit bench serve</c> share it.
/// Tests replace the <see cref="RewardModelLoader"/> service (or pass <c>loader</c>) to serve a fake model.
/// </summary>
public static class RewardServer
{
    /// <summary>Short command-line switches mapped onto the <c>RewardKit</c> configuration section.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--model"] = "RewardKit:Model",
        ["--registry"] = "RewardKit:Registry",
        ["--name"] = "RewardKit:ModelName",
        ["--api-keys"] = "RewardKit:ApiKeys",
    };

    /// <summary>The web application: configuration from <paramref name="args"/>, the model loaded through <paramref name="loader"/> (default <see cref="ModelLoading.Load(string, bool)"/>, which honours <see cref="RewardServerOptions.SkipVersionCheck"/>).</summary>
    public static WebApplication Build(string[] args, RewardModelLoader? loader = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddCommandLine(args, Switches.ToDictionary());
        return Build(builder, loader);
    }

    /// <summary>
    /// The web application for settings already in hand (<c>rewardkit serve</c>): <paramref name="options"/> (validated
    /// here) instead of the <c>RewardKit</c> configuration section, listening on <paramref name="urls"/> (';'-separated).
    /// </summary>
    public static WebApplication Build(RewardServerOptions options, string urls, RewardModelLoader? loader = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(urls);
        options.Validate();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Services.AddSingleton(options);
        return Build(builder, loader);
    }

    static WebApplication Build(WebApplicationBuilder builder, RewardModelLoader? loader)
    {
        ConfigureServices(builder.Services, loader);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null); // limited per request in ReadAsync
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    /// <summary>Registers the service's singletons (the options from configuration unless a <see cref="RewardServerOptions"/> is registered already).</summary>
    public static void ConfigureServices(IServiceCollection services, RewardModelLoader? loader)
    {
        services.TryAddSingleton(sp => loader ?? DefaultLoader(sp.GetRequiredService<RewardServerOptions>()));
        services.TryAddSingleton(sp => RewardServerOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => sp.GetRequiredService<RewardServerOptions>().ApiKeys is { } file ? ApiKeys.Load(file) : ApiKeys.None);
        services.AddMetrics();
        var meterName = $"{ServerMetrics.MeterName}.{Guid.NewGuid():N}";
        services.AddSingleton(sp => new ServerMetrics(sp.GetRequiredService<IMeterFactory>(), meterName));
        // /metrics: OpenTelemetry's Prometheus exporter over ServerMetrics' meter, text format 0.0.4; no scope label or
        // target_info series and no response cache, so the names and values are the ones the instruments record.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(meterName)
            .AddView("rewardkit.http.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = ServerMetrics.SecondsBuckets })
            .AddView("rewardkit.batch.size", new ExplicitBucketHistogramConfiguration { Boundaries = ServerMetrics.CountBuckets })
            .AddPrometheusExporter(o =>
            {
                o.ScopeInfoEnabled = false;
                o.TargetInfoEnabled = false;
                o.ScrapeResponseCacheDurationMilliseconds = 0;
            }));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ModelHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            // Problems written by the framework (routing, status code pages) get a hint too.
            if (c.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad) c.ProblemDetails.Detail ??= ScoringEndpoints.DescribeBadBody(bad);
            c.ProblemDetails.Detail ??= c.ProblemDetails.Status switch
            {
                415 => "send the body as application/json.",
                404 => $"no endpoint at {c.HttpContext.Request.Path}; see /openapi/v1.json for the API.",
                405 => $"{c.HttpContext.Request.Method} is not allowed on {c.HttpContext.Request.Path}; see /openapi/v1.json.",
                500 => "an internal error; it was logged, please report it.",
                _ => null,
            };
        });
        // Typed results (Ok<T>) and the OpenAPI schemas use the wire format's snake_case names.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = ScoringEndpoints.Json.PropertyNamingPolicy);
        services.AddOpenApi();
    }

    static RewardModelLoader DefaultLoader(RewardServerOptions options) => directory => ModelLoading.Load(directory, verifyVersion: !options.SkipVersionCheck);

    /// <summary>Middleware and endpoints.</summary>
    public static void MapEndpoints(WebApplication app)
    {
        // Resolve eagerly so a bad --api-keys file or option stops the start-up with its message.
        var keys = app.Services.GetRequiredService<ApiKeys>();
        var metrics = app.Services.GetRequiredService<ServerMetrics>();
        // A malformed or slow body that escapes an endpoint still gets its own status (400, 408, 413), never 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.Use((context, next) => context.Request.Path.StartsWithSegments("/v1")
            ? ScoringEndpoints.MeasureAsync(context, () => next(context), metrics)
            : next(context));
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/v1") && keys.Check(context.Request) is { } denied)
            {
                await denied.ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).WithName("Health");
        app.MapGet("/readyz", Results<Ok<ReadyResponse>, UnavailableProblem> (ModelHost host) => host.Current is { } m
            ? TypedResults.Ok(new ReadyResponse("ready", m.Model.Metadata.Name, m.Model.Metadata.Version))
            : Problems.Unavailable(host.PublicError ?? "the model is still loading.")).WithName("Ready");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi();
        app.MapScalarApiReference("/scalar", o => o.WithTitle("RewardKit scoring API"));
        app.MapScoring();
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RewardKit.Server.Annotation;

/// <summary>
/// The annotation web app on its own host (what <c>rewardkit annotate serve</c> runs): always the Production
/// environment (no developer exception page), Kestrel's body limit at the form limit, framework logs at warnings.
/// </summary>
public static class AnnotationApp
{
    /// <summary>The app for <paramref name="options"/>; <paramref name="args"/> carries host settings such as <c>--urls</c>.</summary>
    public static WebApplication Build(AnnotationServerOptions options, string[]? args = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args ?? [], EnvironmentName = Environments.Production, ApplicationName = typeof(AnnotationApp).Assembly.GetName().Name,
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxFormBytes;
        });
        builder.Services.AddAnnotation(options);
        var app = builder.Build();
        app.UseAnnotation();
        app.MapAnnotation();
        return app;
    }
}

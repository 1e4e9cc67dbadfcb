// RewardKit's HTTP service: the one place where services and endpoints are wired.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
app.Run();

/// <summary>The service's entry point, public so tests can host it through WebApplicationFactory.</summary>
public partial class Program;

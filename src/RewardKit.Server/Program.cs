// RewardKit's HTTP service. Everything is wired in RewardServer.Build so that `rewardkit serve` starts the same app:
//   dotnet run --project src/RewardKit.Server -- --model DIR | --registry DIR [--name NAME] [--api-keys FILE] --urls http://127.0.0.1:8080
RewardKit.Server.RewardServer.Build(args).Run();

/// <summary>The service's entry point, public so tests can host it through WebApplicationFactory.</summary>
public partial class Program;

using System.CommandLine;
using Microsoft.Extensions.Hosting;
using RewardKit.Server;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit serve</c>: Serve a reward model over HTTP.</summary>
public static class ServeCommand
{
    /// <summary>Builds the <c>serve</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model folder to serve." };
        var registry = new Option<string>("--registry") { Description = "A registry folder: serve the promoted version and swap when it changes." };
        var name = new Option<string>("--name") { Description = "Model name in the registry (default: its only name)." };
        var urls = new Option<string>("--urls") { Description = "Listen address (default http://127.0.0.1:8080).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var keys = new Option<string>("--api-keys") { Description = "File of sha256 (hex) API key hashes, one per line; requires Authorization: Bearer KEY." };
        var noBatching = new Option<bool>("--no-micro-batching") { Description = "One forward pass per request (for comparison)." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("serve", "Serve a reward model over HTTP.") { model, registry, name, urls, keys, noBatching, skipVersion };
        command.SetAction(async (parse, ct) =>
        {
            if ((parse.GetValue(model) is null) == (parse.GetValue(registry) is null))
                throw new UserErrorException("pass exactly one of --model DIR or --registry DIR.");
            var skip = parse.GetValue(skipVersion);
            var options = new RewardServerOptions
            {
                Model = parse.GetValue(model),
                Registry = parse.GetValue(registry),
                ModelName = parse.GetValue(name),
                ApiKeys = parse.GetValue(keys),
                MicroBatching = !parse.GetValue(noBatching),
                SkipVersionCheck = skip,
            };
            await using var app = RewardServer.Build(options, parse.GetValue(urls)!, directory => ScoringCli.Load(directory, skip));
            await app.StartAsync(ct);
            Console.Error.WriteLine($"serving on {string.Join(", ", app.Urls)}; Ctrl+C finishes in-flight requests and stops.");
            await app.WaitForShutdownAsync(ct);
            return CliApp.Success;
        });
        return command;
    }
}

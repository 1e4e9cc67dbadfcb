using System.CommandLine;
using RewardKit.Inference.Registry;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit registry</c>: Model registry: push, list, promote and rollback model versions.</summary>
public static class RegistryCommand
{
    /// <summary>Builds the <c>registry</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var command = new Command("registry", "Model registry: push, list, promote and rollback model versions.");
        command.Subcommands.Add(Push());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Promote());
        command.Subcommands.Add(Rollback());
        return command;
    }

    static Option<string> RegistryOption() => new("--registry") { Description = "The registry folder (REGISTRY/NAME/VERSION/).", Required = true };

    static Command Push()
    {
        var registry = RegistryOption();
        var model = new Option<string>("--model") { Description = "The model folder to copy in.", Required = true };
        var name = new Option<string>("--name") { Description = "Model name (default: the name in rewardkit.json)." };
        var version = new Option<string>("--version") { Description = "Version (default: v1, v2, ...)." };
        var command = new Command("push", "Copy a model folder into the registry with a sha256 manifest (atomically).") { registry, model, name, version };
        command.SetAction((parse, ct) =>
        {
            var entry = new ModelRegistry(parse.GetValue(registry)!).Push(parse.GetValue(model)!, parse.GetValue(name), parse.GetValue(version), ct);
            Console.WriteLine($"pushed {entry.Name} {entry.Version} -> {entry.Directory}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command List()
    {
        var registry = RegistryOption();
        var name = new Option<string>("--name") { Description = "Only this model name." };
        var command = new Command("list", "List every version; * marks the promoted one.") { registry, name };
        command.SetAction(parse =>
        {
            var entries = new ModelRegistry(parse.GetValue(registry)!).List(parse.GetValue(name));
            if (entries.Count == 0) Console.WriteLine("the registry is empty; add a model with `rewardkit registry push`.");
            foreach (var e in entries) Console.WriteLine($"{(e.Promoted ? '*' : ' ')} {e.Name,-24} {e.Version,-12} {e.CreatedUtc:yyyy-MM-dd HH:mm:ss}Z");
            return CliApp.Success;
        });
        return command;
    }

    static Command Promote()
    {
        var registry = RegistryOption();
        var name = new Argument<string>("name") { Description = "Model name." };
        var version = new Argument<string>("version") { Description = "Version to serve (its checksums are verified first)." };
        var command = new Command("promote", "Make a version the one served (services polling the registry swap to it).") { registry, name, version };
        command.SetAction((parse, ct) =>
        {
            var entry = new ModelRegistry(parse.GetValue(registry)!).Promote(parse.GetValue(name)!, parse.GetValue(version)!, ct);
            Console.WriteLine($"promoted {entry.Name} {entry.Version}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command Rollback()
    {
        var registry = RegistryOption();
        var name = new Argument<string>("name") { Description = "Model name." };
        var command = new Command("rollback", "Promote the previously promoted version again.") { registry, name };
        command.SetAction((parse, ct) =>
        {
            var entry = new ModelRegistry(parse.GetValue(registry)!).Rollback(parse.GetValue(name)!, ct);
            Console.WriteLine($"rolled back {entry.Name} to {entry.Version}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }
}

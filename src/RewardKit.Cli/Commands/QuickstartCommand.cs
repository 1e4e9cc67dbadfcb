using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit quickstart [--out DIR]</c>: the README's main job on the built-in preference world.</summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for the data, model and report.", DefaultValueFactory = _ => new DirectoryInfo("quickstart-out") };
        var command = new Command("quickstart", "Generate the built-in preference data, train a small reward model, evaluate it and write a report.") { outDir };
        command.SetAction(parse =>
        {
            Console.WriteLine($"quickstart: output folder {parse.GetValue(outDir)!.FullName}");
            Console.WriteLine("quickstart: the data generator, trainer and evaluator are not built yet; nothing was run.");
            return CliApp.UserError;
        });
        return command;
    }
}

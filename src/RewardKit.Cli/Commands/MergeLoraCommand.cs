using System.CommandLine;
using RewardKit.Models.Lora;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit merge-lora --adapter DIR --out DIR [--base DIR]</c>: folds a LoRA adapter folder into its base and writes a
/// plain model folder (what PEFT's <c>merge_and_unload</c> gives), which scores as fast as the base.
/// </summary>
public static class MergeLoraCommand
{
    /// <summary>Builds the <c>merge-lora</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var adapter = new Option<string>("--adapter") { Description = "The LoRA adapter folder (OUT/model of `rewardkit train --lora-r ...`).", Required = true };
        var output = new Option<string>("--out") { Description = "The merged model folder to write (replaced atomically if it exists).", Required = true };
        var baseModel = new Option<string?>("--base") { Description = "The base model folder (default: the adapter's base_model_name_or_path)." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("merge-lora", "Fold a LoRA adapter into its base model and write a plain model folder.") { adapter, output, baseModel, skipVersion };
        command.SetAction((parse, _) =>
        {
            var adapterDir = parse.GetValue(adapter)!;
            if (!LoraAdapterFolder.IsAdapter(adapterDir))
                throw new UserErrorException($"--adapter: {adapterDir} has no {LoraAdapterFolder.ConfigFileName}; pass the adapter folder written by `rewardkit train --lora-r R --init BASE_DIR` (OUT/model).");
            var outDir = parse.GetValue(output)!;
            var metadata = LoraAdapterFolder.MergeToFolder(adapterDir, outDir, parse.GetValue(baseModel), verifyVersion: !parse.GetValue(skipVersion));
            Console.WriteLine($"wrote {Path.GetFullPath(outDir)} (version {metadata.Version[..12]}…): the adapter {adapterDir} merged into its base");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }
}

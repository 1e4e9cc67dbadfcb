using System.CommandLine;
using System.Text.Json;
using RewardKit.Export;
using RewardKit.Models;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit export onnx --model DIR --out model.onnx [--opset 17] [--dynamic-batch] [--json]</c>: the reward model as a
/// standard ONNX graph (input_ids, attention_mask → rewards) for ONNX Runtime and other ONNX runtimes.
/// </summary>
public static class ExportCommand
{
    /// <summary>Builds the <c>export</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var command = new Command("export", "Write a model in another format.");
        command.Subcommands.Add(Onnx());
        return command;
    }

    static Command Onnx()
    {
        var defaults = new OnnxExportOptions();
        var model = ScoringCli.ModelOption();
        var output = new Option<string>("--out") { Description = "The .onnx file to write (replaced atomically if it exists).", Required = true };
        var opset = new Option<int>("--opset")
        {
            Description = $"ONNX operator set, {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset} (17 is the first with LayerNormalization). Default {defaults.Opset}.",
            DefaultValueFactory = _ => defaults.Opset,
        };
        var dynamicBatch = new Option<bool>("--dynamic-batch")
        {
            Description = "Make the batch dimension symbolic ('batch') instead of fixed at 1; the sequence dimension ('seq') is always symbolic.",
        };
        var json = new Option<bool>("--json") { Description = "Print what was written as JSON." };
        var command = new Command("onnx",
            "The reward model as an ONNX graph: input_ids and attention_mask (int64 [batch, seq], right-padded) -> rewards (float [batch]); "
            + "mean-pooled models also take response_mask. Int8 folders are exported with their dequantised weights.")
        {
            model, output, opset, dynamicBatch, json,
        };
        command.SetAction((parse, ct) =>
        {
            var options = new OnnxExportOptions { Opset = parse.GetValue(opset), DynamicBatch = parse.GetValue(dynamicBatch) };
            var summary = GptOnnxExporter.ExportFolder(ScoringCli.ResolveModel(parse.GetValue(model)!, ct), parse.GetValue(output)!, options, ct);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    path = summary.Path, bytes = summary.Bytes, opset = summary.Opset, dynamic_batch = summary.DynamicBatch,
                    pooling = summary.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response",
                    inputs = summary.Inputs, outputs = new[] { GptOnnxExporter.Rewards }, parameters = summary.Parameters,
                    dequantized_int8 = summary.DequantizedInt8,
                }));
            else
            {
                Console.WriteLine($"wrote {summary.Path} ({summary.Bytes / 1e6:0.0} MB, opset {summary.Opset}, {summary.Parameters:N0} parameters)");
                Console.WriteLine($"inputs {string.Join(", ", summary.Inputs)} (int64 [{(summary.DynamicBatch ? "batch" : "1")}, seq]) -> {GptOnnxExporter.Rewards} (float)");
                if (summary.DequantizedInt8)
                    Console.WriteLine("int8 folder: its dequantised weights were written (ONNX computes the weight-quantised model in float).");
            }
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }
}

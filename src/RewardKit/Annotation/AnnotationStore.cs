using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RewardKit.Annotation;

/// <summary>
/// The annotation project in one SQLite file: tasks, annotators (sha256 of their invite tokens), hand-outs, labels,
/// settings and the active-learning scores. WAL journal with <c>synchronous = FULL</c>: when <see cref="Submit"/> returns
/// <see cref="SubmitOutcome.Stored"/> the label is on disk and survives the process being killed. Writes are serialised
/// in-process and run in IMMEDIATE transactions, so several servers or CLI commands may share the file. Thread-safe.
/// </summary>
public sealed partial class AnnotationStore
{
    readonly string _connectionString;
    readonly TimeProvider _time;
    readonly Lock _write = new();

    AnnotationStore(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (creating if needed) the database at <paramref name="path"/>, switches it to WAL and applies missing
    /// migrations. Throws <see cref="InvalidDataException"/> when the file is not an annotation database.
    /// </summary>
    public static AnnotationStore Open(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{path}: the folder {dir} does not exist; create it first.");
        var store = new AnnotationStore(full, time ?? TimeProvider.System);
        try
        {
            using var connection = store.Connect();
            Execute(connection, null, "PRAGMA journal_mode = WAL;");
            AnnotationSchema.Migrate(connection, path);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 /* SQLITE_NOTADB */ or 11 /* SQLITE_CORRUPT */)
        {
            throw new InvalidDataException($"{path}: not an annotation database ({e.Message}); pass the file `rewardkit annotate serve` created.", e);
        }
        return store;
    }

    /// <summary>The schema version of the file (see <see cref="AnnotationSchema"/>).</summary>
    public int SchemaVersion
    {
        get
        {
            using var connection = Connect();
            return AnnotationSchema.UserVersion(connection);
        }
    }

    SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;");
        return connection;
    }

    long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Runs <paramref name="body"/> in an IMMEDIATE transaction under the in-process write lock and commits.</summary>
    T Write<T>(Func<SqliteConnection, SqliteTransaction, T> body)
    {
        lock (_write)
        {
            using var connection = Connect();
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = body(connection, transaction);
            transaction.Commit();
            return result;
        }
    }

    /// <summary>Runs <paramref name="body"/> in a read transaction (one consistent view of the database).</summary>
    T Read<T>(Func<SqliteConnection, SqliteTransaction, T> body)
    {
        using var connection = Connect();
        using var transaction = connection.BeginTransaction(deferred: true);
        return body(connection, transaction);
    }

    static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    // ---- settings ---------------------------------------------------------------------------------------------------

    /// <summary>The project's settings (defaults for those never saved).</summary>
    public AnnotationSettings Settings() => Read((c, t) => ReadSettings(c, t));

    /// <summary>Saves <paramref name="settings"/> after checking them.</summary>
    public void SaveSettings(AnnotationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Write((c, t) =>
        {
            SetSetting(c, t, "annotators_per_task", settings.AnnotatorsPerTask.ToString(CultureInfo.InvariantCulture));
            SetSetting(c, t, "gold_every", settings.GoldEvery.ToString(CultureInfo.InvariantCulture));
            SetSetting(c, t, "assignment_minutes", settings.AssignmentMinutes.ToString(CultureInfo.InvariantCulture));
            SetSetting(c, t, "guidelines", settings.Guidelines);
            return 0;
        });
    }

    static AnnotationSettings ReadSettings(SqliteConnection c, SqliteTransaction t)
    {
        var all = AllSettings(c, t);
        int Int(string key, int fallback) => all.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var defaults = new AnnotationSettings();
        return new AnnotationSettings
        {
            AnnotatorsPerTask = Int("annotators_per_task", defaults.AnnotatorsPerTask),
            GoldEvery = Int("gold_every", defaults.GoldEvery),
            AssignmentMinutes = Int("assignment_minutes", defaults.AssignmentMinutes),
            Guidelines = all.GetValueOrDefault("guidelines", ""),
        };
    }

    static Dictionary<string, string> AllSettings(SqliteConnection c, SqliteTransaction t)
    {
        using var command = Command(c, t, "SELECT key, value FROM settings;");
        using var reader = command.ExecuteReader();
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) all[reader.GetString(0)] = reader.GetString(1);
        return all;
    }

    static void SetSetting(SqliteConnection c, SqliteTransaction t, string key, string value) =>
        Execute(c, t, "INSERT INTO settings (key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value;", ("$k", key), ("$v", value));

    /// <summary>
    /// The project's secret key for CSRF tokens (32 random bytes made on first use and kept in the database, so tokens
    /// stay valid across restarts).
    /// </summary>
    public byte[] SecretKey() => Write((c, t) =>
    {
        if (Scalar(c, t, "SELECT value FROM settings WHERE key = 'secret_key';") is string existing) return Convert.FromBase64String(existing);
        var key = RandomNumberGenerator.GetBytes(32);
        SetSetting(c, t, "secret_key", Convert.ToBase64String(key));
        return key;
    });

    // ---- annotators ---------------------------------------------------------------------------------------------------

    /// <summary>The sha256 (lower-case hex) of an invite token: the only form in which tokens are stored.</summary>
    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>
    /// Invites annotator <paramref name="id"/> and returns their new invite token (shown once: only its hash is kept).
    /// Inviting an existing id replaces the old token, which stops working.
    /// </summary>
    public string Invite(string id, AnnotatorRole role)
    {
        if (!AnnotationLimits.IsValidId(id, AnnotationLimits.MaxAnnotatorIdLength))
            throw new ArgumentException($"annotator id '{id}' is not valid; use at most {AnnotationLimits.MaxAnnotatorIdLength} letters, digits, '_', '.', ':' or '-'.", nameof(id));
        var token = "rk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Write((c, t) => Execute(c, t,
            "INSERT INTO annotators (id, token_sha256, role, created_ms) VALUES ($id, $h, $r, $now) " +
            "ON CONFLICT(id) DO UPDATE SET token_sha256 = excluded.token_sha256, role = excluded.role;",
            ("$id", id), ("$h", HashToken(token)), ("$r", role.ToString().ToLowerInvariant()), ("$now", NowMs)));
        return token;
    }

    /// <summary>The annotator holding <paramref name="token"/>, or null for an unknown token.</summary>
    public Annotator? FindAnnotator(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200) return null;
        var hash = HashToken(token);
        return Read((c, t) =>
        {
            using var command = Command(c, t, "SELECT id, role, created_ms FROM annotators WHERE token_sha256 = $h;", ("$h", hash));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadAnnotator(reader) : null;
        });
    }

    /// <summary>Every annotator, by id.</summary>
    public IReadOnlyList<Annotator> Annotators() => Read((c, t) => ReadAnnotators(c, t));

    static List<Annotator> ReadAnnotators(SqliteConnection c, SqliteTransaction t)
    {
        using var command = Command(c, t, "SELECT id, role, created_ms FROM annotators ORDER BY id;");
        using var reader = command.ExecuteReader();
        var list = new List<Annotator>();
        while (reader.Read()) list.Add(ReadAnnotator(reader));
        return list;
    }

    static Annotator ReadAnnotator(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1) == "admin" ? AnnotatorRole.Admin : AnnotatorRole.Annotator, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)));

    // ---- tasks ----------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds <paramref name="tasks"/> in one transaction. A task whose id is already present with the same content is
    /// left as it is; with different content the import stops (nothing added) with an error naming the id.
    /// </summary>
    public TaskImport ImportTasks(IReadOnlyList<AnnotationTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        return Write((c, t) =>
        {
            int added = 0, unchanged = 0;
            foreach (var task in tasks)
            {
                if (ReadTask(c, t, "t.id = $id", ("$id", task.Id)) is { } existing)
                {
                    if (!SameContent(existing.Task, task))
                        throw new InvalidDataException($"task '{task.Id}' is already in {Path} with different content; give the changed task a new id.");
                    unchanged++;
                    continue;
                }
                Execute(c, t, "INSERT INTO tasks (id, mode, prompt, responses, category, gold, added_ms) VALUES ($id, $m, $p, $r, $c, $g, $now);",
                    ("$id", task.Id), ("$m", AnnotationModes.Name(task.Mode)), ("$p", task.Prompt), ("$r", JsonSerializer.Serialize(task.Responses)),
                    ("$c", task.Category), ("$g", task.Gold is { } gold ? AnswerText(task.Mode, gold) : null), ("$now", NowMs));
                added++;
            }
            return new TaskImport(added, unchanged);
        });
    }

    static bool SameContent(AnnotationTask a, AnnotationTask b) =>
        a.Mode == b.Mode && a.Prompt == b.Prompt && a.Responses.SequenceEqual(b.Responses) && a.Category == b.Category
        && (a.Gold is null ? null : AnswerText(a.Mode, a.Gold)) == (b.Gold is null ? null : AnswerText(b.Mode, b.Gold));

    /// <summary>The task with id <paramref name="id"/>, or null.</summary>
    public AnnotationTask? FindTask(string id) =>
        AnnotationLimits.IsValidId(id, AnnotationLimits.MaxTaskIdLength) ? Read((c, t) => ReadTask(c, t, "t.id = $id", ("$id", id)) is { } found ? found.Task : null) : null;

    /// <summary>Every task in import order.</summary>
    public IReadOnlyList<AnnotationTask> Tasks() => Read((c, t) => ReadTasks(c, t));

    static List<AnnotationTask> ReadTasks(SqliteConnection c, SqliteTransaction t)
    {
        using var command = Command(c, t, $"SELECT {TaskColumns} FROM tasks t ORDER BY t.seq;");
        using var reader = command.ExecuteReader();
        var list = new List<AnnotationTask>();
        while (reader.Read()) list.Add(ReadTaskRow(reader).Task);
        return list;
    }

    const string TaskColumns = "t.seq, t.id, t.mode, t.prompt, t.responses, t.category, t.gold";

    static (long Seq, AnnotationTask Task)? ReadTask(SqliteConnection c, SqliteTransaction t, string where, params (string, object?)[] parameters)
    {
        using var command = Command(c, t, $"SELECT {TaskColumns} FROM tasks t WHERE {where};", parameters);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTaskRow(reader) : null;
    }

    static (long Seq, AnnotationTask Task) ReadTaskRow(SqliteDataReader r)
    {
        var mode = TaskFile.ParseMode(r.GetString(2), "database");
        var task = new AnnotationTask
        {
            Id = r.GetString(1), Mode = mode, Prompt = r.GetString(3),
            Responses = JsonSerializer.Deserialize<List<string>>(r.GetString(4))!,
            Category = r.IsDBNull(5) ? null : r.GetString(5),
            Gold = r.IsDBNull(6) ? null : ParseAnswer(mode, r.GetString(6)),
        };
        return (r.GetInt64(0), task);
    }

    /// <summary>The text form of an answer as stored: "A"/"B"/"tie" (pairwise) or comma-separated ranks or ratings.</summary>
    static string AnswerText(AnnotationMode mode, AnnotationAnswer answer) => mode switch
    {
        AnnotationMode.Pairwise => answer.Choice == PairChoice.Tie ? "tie" : answer.Choice.ToString()!,
        AnnotationMode.Ranking => string.Join(',', answer.Ranks!),
        _ => string.Join(',', answer.Ratings!),
    };

    static AnnotationAnswer ParseAnswer(AnnotationMode mode, string text) => mode switch
    {
        AnnotationMode.Pairwise => new AnnotationAnswer { Choice = ParseChoice(text), Strength = text == "tie" ? 0 : 1 },
        AnnotationMode.Ranking => new AnnotationAnswer { Ranks = Ints(text) },
        _ => new AnnotationAnswer { Ratings = Ints(text) },
    };

    static PairChoice ParseChoice(string text) => text switch { "A" => PairChoice.A, "B" => PairChoice.B, _ => PairChoice.Tie };

    static int[] Ints(string text) => text.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}

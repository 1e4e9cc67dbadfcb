using Microsoft.Data.Sqlite;

namespace RewardKit.Annotation;

/// <summary>
/// The annotation database's schema as an ordered list of migrations. <c>PRAGMA user_version</c> holds the number of
/// migrations applied; opening a database applies the missing ones, each in its own transaction, so an old database
/// is upgraded in place and a crash half-way leaves it at the last complete version. Never edit a migration that has
/// shipped: append a new one.
/// </summary>
public static class AnnotationSchema
{
    /// <summary>The migrations in order; migration i (0-based) takes the database from version i to i + 1.</summary>
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: tasks, annotators (token hashes only), hand-outs and labels. Times are Unix milliseconds (UTC).
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE tasks (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            mode TEXT NOT NULL,
            prompt TEXT NOT NULL,
            responses TEXT NOT NULL,
            category TEXT,
            gold TEXT,
            added_ms INTEGER NOT NULL);
        CREATE TABLE annotators (
            id TEXT PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            created_ms INTEGER NOT NULL);
        CREATE TABLE assignments (
            task_seq INTEGER NOT NULL REFERENCES tasks(seq),
            annotator_id TEXT NOT NULL REFERENCES annotators(id),
            assigned_ms INTEGER NOT NULL,
            PRIMARY KEY (task_seq, annotator_id));
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_seq INTEGER NOT NULL REFERENCES tasks(seq),
            annotator_id TEXT NOT NULL REFERENCES annotators(id),
            choice TEXT,
            strength INTEGER,
            ranks TEXT,
            ratings TEXT,
            reason TEXT,
            seconds REAL NOT NULL,
            submitted_ms INTEGER NOT NULL,
            UNIQUE (task_seq, annotator_id));
        """,
        // 2: active learning (the reward model's uncertainty per task) and an index for per-annotator queries.
        """
        CREATE TABLE task_scores (
            task_seq INTEGER PRIMARY KEY REFERENCES tasks(seq),
            uncertainty REAL NOT NULL,
            rewards TEXT NOT NULL);
        CREATE INDEX labels_by_annotator ON labels(annotator_id);
        CREATE INDEX assignments_by_annotator ON assignments(annotator_id);
        """,
    ];

    /// <summary>The schema version this build writes (the number of migrations).</summary>
    public static int Version => Migrations.Count;

    /// <summary>Applies the migrations <paramref name="connection"/>'s database lacks, up to <paramref name="target"/> (default all); returns the version reached.</summary>
    public static int Migrate(SqliteConnection connection, string path, int? target = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        int goal = target ?? Version;
        int version = UserVersion(connection);
        if (version > Version)
            throw new InvalidDataException($"{path}: the database has schema version {version} but this RewardKit knows up to {Version}; use a newer RewardKit.");
        for (; version < goal; version++)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[version] + $"\nPRAGMA user_version = {version + 1};";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        return version;
    }

    /// <summary>The database's <c>PRAGMA user_version</c>.</summary>
    public static int UserVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

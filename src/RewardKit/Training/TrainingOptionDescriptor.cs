using System.Globalization;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;

namespace RewardKit.Training;

/// <summary>
/// Makes a property of <see cref="RewardTrainingOptions"/> an option: its help text (the CLI help, and the first
/// sentence(s) of the property's XML documentation) and its CLI flags. The config key is the property name in snake_case.
/// </summary>
/// <param name="help">What the option does, without its default (the CLI adds the default from the record).</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TrainingOptionAttribute(string help) : Attribute
{
    /// <summary>What the option does.</summary>
    public string Help { get; } = help;

    /// <summary>The CLI flags, the first being the name shown; default <c>--</c> and the key in kebab-case.</summary>
    public string[]? Flags { get; init; }

    /// <summary>True for a file or folder (the CLI passes it on as a full path).</summary>
    public bool IsPath { get; init; }

    /// <summary>True for a fact the trainer records about the run (written to the stored options, no CLI flag).</summary>
    public bool IsRecorded { get; init; }
}

/// <summary>
/// One option of <see cref="RewardTrainingOptions"/>, read from its <see cref="TrainingOptionAttribute"/>: the config key,
/// CLI flags, help, type and default, and the one parser that both the YAML config and the CLI use.
/// </summary>
public sealed class TrainingOptionDescriptor
{
    readonly PropertyInfo _property;

    TrainingOptionDescriptor(PropertyInfo property, TrainingOptionAttribute attribute, RewardTrainingOptions defaults)
    {
        _property = property;
        Key = OptionNames.Snake(property.Name);
        Flags = attribute.Flags is { Length: > 0 } flags ? flags : ["--" + Key.Replace('_', '-')];
        Help = attribute.Help;
        IsPath = attribute.IsPath;
        IsRecorded = attribute.IsRecorded;
        Type = property.PropertyType;
        Default = property.GetValue(defaults);
        var enumType = Nullable.GetUnderlyingType(Type) ?? Type;
        AllowedValues = enumType.IsEnum ? OptionNames.Allowed(enumType) : null;
    }

    /// <summary>All options, in the record's order.</summary>
    internal static IReadOnlyList<TrainingOptionDescriptor> All { get; } = Create();

    /// <summary>The config key (snake_case, e.g. <c>learning_rate</c>).</summary>
    public string Key { get; }

    /// <summary>The CLI flags (e.g. <c>--lr</c>, <c>--learning-rate</c>).</summary>
    public IReadOnlyList<string> Flags { get; }

    /// <summary>What the option does (without the default).</summary>
    public string Help { get; }

    /// <summary>True for a file or folder.</summary>
    public bool IsPath { get; }

    /// <summary>True for a fact the trainer records about the run (e.g. <c>world_size</c>): stored with the options, never a CLI flag.</summary>
    public bool IsRecorded { get; }

    /// <summary>The property's type.</summary>
    public Type Type { get; }

    /// <summary>The value of a default <see cref="RewardTrainingOptions"/>.</summary>
    public object? Default { get; }

    /// <summary>The names an enum option accepts (kebab-case; other spellings of the same names are accepted too), else null.</summary>
    public IReadOnlyList<string>? AllowedValues { get; }

    /// <summary>True for a true/false option (a CLI flag given without a value means true).</summary>
    public bool IsSwitch => Type == typeof(bool);

    /// <summary>The help with the allowed values and the default, as the CLI prints it.</summary>
    public string FullHelp
    {
        get
        {
            var text = new StringBuilder(Help);
            if (AllowedValues is not null) text.Append(" One of: ").Append(string.Join(", ", AllowedValues)).Append('.');
            if (Default is not null && !(Default is bool b && !b)) text.Append(" Default ").Append(Format(Default)).Append('.');
            return text.ToString();
        }
    }

    /// <summary>The current value of this option in <paramref name="options"/>.</summary>
    public object? Get(RewardTrainingOptions options) => _property.GetValue(options);

    /// <summary>
    /// A copy of <paramref name="options"/> with this option parsed from <paramref name="text"/> (null or empty: null for a
    /// nullable option). Throws <see cref="ArgumentException"/> naming the option and what it accepts.
    /// </summary>
    public RewardTrainingOptions With(RewardTrainingOptions options, string? text)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options with { };
        _property.SetValue(copy, Parse(text));
        return copy;
    }

    /// <summary>A value as the CLI help and error messages show it (enums in kebab-case, numbers invariant).</summary>
    public static string Format(object value) => value switch
    {
        Enum e => OptionNames.Kebab(e.ToString()),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    object? Parse(string? text)
    {
        var type = Nullable.GetUnderlyingType(Type) ?? Type;
        bool nullable = Nullable.GetUnderlyingType(Type) is not null || !Type.IsValueType;
        if (string.IsNullOrWhiteSpace(text) || text is "~" or "null")
        {
            if (nullable) return null;
            throw Error(text ?? "", "needs a value");
        }
        text = text.Trim();
        if (type == typeof(string)) return text;
        if (type.IsEnum) return OptionNames.Parse(type, text, Key);
        if (type == typeof(bool))
            return bool.TryParse(text, out var b) ? b : throw Error(text, "is not true or false");
        try
        {
            return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            bool whole = type == typeof(int) || type == typeof(long) || type == typeof(ulong);
            throw Error(text, whole ? "is not a whole number in range" : "is not a number (use a dot for decimals, e.g. 0.001 or 1e-3)");
        }
    }

    ArgumentException Error(string text, string problem) => new($"training option '{Key}': '{text}' {problem}.");

    static TrainingOptionDescriptor[] Create()
    {
        var defaults = new RewardTrainingOptions();
        return [.. typeof(RewardTrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<TrainingOptionAttribute>() is not null)
            .OrderBy(p => p.MetadataToken)
            .Select(p => new TrainingOptionDescriptor(p, p.GetCustomAttribute<TrainingOptionAttribute>()!, defaults))];
    }
}

/// <summary>
/// Names of options and their enum values. An enum value's name is its <see cref="EnumMemberAttribute"/> value when it
/// has one, else its C# name (this is how <see cref="RewardTrainingOptions.ToYaml"/> writes it); parsing accepts any
/// spelling that differs only in case, '-' or '_' (bradley-terry, bradley_terry, BradleyTerry).
/// </summary>
public static class OptionNames
{
    /// <summary>The name <see cref="RewardTrainingOptions.ToYaml"/> writes for <paramref name="value"/>.</summary>
    public static string Name(Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var field = value.GetType().GetField(value.ToString());
        return field?.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? value.ToString();
    }

    /// <summary>The values of <paramref name="enumType"/> in kebab-case, in declaration order.</summary>
    public static IReadOnlyList<string> Allowed(Type enumType) =>
        [.. Enum.GetValues(enumType).Cast<Enum>().Select(v => Kebab(Name(v)))];

    /// <summary>
    /// The value of <paramref name="enumType"/> named <paramref name="text"/>; an <see cref="ArgumentException"/> naming
    /// <paramref name="key"/> and the allowed values otherwise (numbers are refused, so no value is picked by position).
    /// </summary>
    public static object Parse(Type enumType, string text, string key)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        ArgumentNullException.ThrowIfNull(text);
        var wanted = Normalize(text);
        foreach (Enum value in Enum.GetValues(enumType))
            if (Normalize(value.ToString()) == wanted || Normalize(Name(value)) == wanted) return value;
        throw new ArgumentException($"training option '{key}': '{text}' is not one of {string.Join(", ", Allowed(enumType))}.");
    }

    /// <summary>PascalCase or camelCase to snake_case (LearningRate → learning_rate, L2 → l2).</summary>
    public static string Snake(string name) => Separate(name, '_');

    /// <summary>PascalCase, snake_case or lower case to kebab-case (BradleyTerry → bradley-terry).</summary>
    public static string Kebab(string name) => Separate(name, '-').Replace('_', '-');

    static string Separate(string name, char separator)
    {
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                text.Append(separator);
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    static string Normalize(string text) => new([.. text.Where(c => c is not ('-' or '_' or ' ')).Select(char.ToLowerInvariant)]);
}

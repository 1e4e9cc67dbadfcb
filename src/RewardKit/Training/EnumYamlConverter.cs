using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace RewardKit.Training;

/// <summary>
/// Reads and writes enum values of a YAML config in snake_case (<c>moving_average</c>, <c>running_zscore</c>, <c>k3</c>),
/// accepting any spelling that differs only in case, '-' or '_' (<see cref="OptionNames.Parse"/>); a value that names none
/// is an error listing the allowed ones.
/// </summary>
internal sealed class EnumYamlConverter : IYamlTypeConverter
{
    public bool Accepts(Type type) => type.IsEnum || Nullable.GetUnderlyingType(type)?.IsEnum == true;

    public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
    {
        var scalar = parser.Consume<Scalar>();
        var enumType = Nullable.GetUnderlyingType(type) ?? type;
        if (enumType != type && scalar.Value is "" or "~" or "null") return null;
        try { return OptionNames.Parse(enumType, scalar.Value, enumType.Name); }
        catch (ArgumentException)
        {
            throw new YamlException(scalar.Start, scalar.End,
                $"'{scalar.Value}' is not one of {string.Join(", ", Allowed(enumType))}");
        }
    }

    public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
        emitter.Emit(new Scalar(value is Enum e ? OptionNames.Snake(OptionNames.Name(e)).Replace('-', '_') : ""));

    /// <summary>The values of <paramref name="enumType"/> in snake_case, in declaration order.</summary>
    public static IEnumerable<string> Allowed(Type enumType) => OptionNames.Allowed(enumType).Select(a => a.Replace('-', '_'));
}

namespace Registration.Testing.Deployment;

/// <summary>
/// An nginx configuration file read as nginx tokenises it: <c># comments</c> dropped, directives ended by
/// <c>;</c>, blocks by <c>{ }</c>, quotes kept together. Enough to check what the deployment relies on
/// (listen port, proxy target, forwarded headers), not a validator: <c>nginx -t</c> is that.
/// </summary>
public sealed class NginxConfig
{
    private NginxConfig(IReadOnlyList<NginxDirective> directives) => Directives = directives;

    /// <summary>Every directive, in order, with the blocks it sits in (<c>server</c>, <c>location /</c>).</summary>
    public IReadOnlyList<NginxDirective> Directives { get; }

    public static NginxConfig Load(string relativePath) => Parse(Repository.ReadText(relativePath));

    public static NginxConfig Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var directives = new List<NginxDirective>();
        var blocks = new Stack<string>();
        var words = new List<string>();
        foreach (var token in Tokens(text))
        {
            switch (token)
            {
                case ";":
                    directives.Add(new NginxDirective(words[0], [.. words.Skip(1)], [.. blocks.Reverse()]));
                    words.Clear();
                    break;
                case "{":
                    blocks.Push(string.Join(' ', words));
                    words.Clear();
                    break;
                case "}":
                    blocks.Pop();
                    break;
                default:
                    words.Add(token);
                    break;
            }
        }

        return words.Count == 0 && blocks.Count == 0
            ? new NginxConfig(directives)
            : throw new FormatException("Unterminated directive or block.");
    }

    /// <summary>The directives with this name.</summary>
    public IEnumerable<NginxDirective> Named(string name) => Directives.Where(directive => directive.Name == name);

    /// <summary>The value of a variable set with <c>set $name value;</c>, or the text unchanged when it names none.</summary>
    public string Expand(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var set in Named("set"))
        {
            text = text.Replace(set.Arguments[0], set.Arguments[1], StringComparison.Ordinal);
        }

        return text;
    }

    private static IEnumerable<string> Tokens(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c is ';' or '{' or '}')
            {
                yield return c.ToString();
                i++;
            }
            else if (c is '"' or '\'')
            {
                var end = text.IndexOf(c, i + 1);
                yield return text[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not (';' or '{' or '}'))
                {
                    // ${name}: a variable, whose braces are no block.
                    i = text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{' ? text.IndexOf('}', i) + 1 : i + 1;
                }

                yield return text[start..i];
            }
        }
    }
}

/// <summary>One directive: its name, arguments, and the blocks around it (outermost first).</summary>
public sealed record NginxDirective(string Name, IReadOnlyList<string> Arguments, IReadOnlyList<string> Blocks);

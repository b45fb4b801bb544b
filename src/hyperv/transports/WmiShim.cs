// HyperVBackup's bridge from node (edge-js) to WMI on a Windows Hyper-V host.
// Loaded by wmi_session.ts with edge.func({ source, references: ["System.Management.dll"] }).
// Written in C# 5 (no interpolation, no ?.): edge-js may compile it with the .NET Framework's
// CodeDom compiler. Every call takes one dictionary { op, ns, ... } and returns plain
// dictionaries, arrays and scalars that edge-js marshals to JavaScript.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Management;
using System.Threading.Tasks;

public class Startup
{
    public async Task<object> Invoke(object input)
    {
        IDictionary<string, object> req = (IDictionary<string, object>)input;
        return await Task.Run<object>(() => Dispatch(req));
    }

    static object Dispatch(IDictionary<string, object> req)
    {
        string op = (string)req["op"];
        ManagementScope scope = new ManagementScope((string)req["ns"]);
        scope.Connect();
        if (op == "query") return Query(scope, (string)req["wql"]);
        if (op == "get") return Get(scope, (string)req["path"]);
        if (op == "associators") return Associators(scope, (string)req["path"], Str(req, "resultClass"), Str(req, "assocClass"));
        if (op == "class") return ClassSchema(scope, (string)req["className"]);
        if (op == "invoke") return InvokeMethod(scope, (string)req["path"], (string)req["method"], (IDictionary<string, object>)req["args"]);
        if (op == "delete")
        {
            // DeleteInstance: how a Win32_ShadowCopy is removed (it has no Delete method).
            using (ManagementObject o = new ManagementObject(scope, new ManagementPath((string)req["path"]), null)) o.Delete();
            return null;
        }
        throw new ArgumentException("Unknown operation '" + op + "'");
    }

    static string Str(IDictionary<string, object> d, string key)
    {
        object v;
        return d.TryGetValue(key, out v) && v != null ? v.ToString() : null;
    }

    static object[] Query(ManagementScope scope, string wql)
    {
        List<object> list = new List<object>();
        using (ManagementObjectSearcher s = new ManagementObjectSearcher(scope, new ObjectQuery(wql)))
        {
            foreach (ManagementBaseObject o in s.Get()) list.Add(ToDictionary(o));
        }
        return list.ToArray();
    }

    static object Get(ManagementScope scope, string path)
    {
        ManagementObject o = new ManagementObject(scope, new ManagementPath(path), null);
        try
        {
            o.Get();
        }
        catch (ManagementException e)
        {
            if (e.ErrorCode == ManagementStatus.NotFound) return null;
            throw;
        }
        return ToDictionary(o);
    }

    static object[] Associators(ManagementScope scope, string path, string resultClass, string assocClass)
    {
        string wql = "ASSOCIATORS OF {" + path + "}";
        List<string> where = new List<string>();
        if (assocClass != null) where.Add("AssocClass=" + assocClass);
        if (resultClass != null) where.Add("ResultClass=" + resultClass);
        if (where.Count > 0) wql += " WHERE " + string.Join(" ", where.ToArray());
        return Query(scope, wql);
    }

    // The class as this host declares it: what the client reads before it builds an embedded
    // instance, so that it never sets a property this Windows release lacks.
    static object ClassSchema(ManagementScope scope, string className)
    {
        ManagementClass cls = new ManagementClass(scope, new ManagementPath(className), null);
        cls.Get();
        List<object> props = new List<object>();
        foreach (PropertyData p in cls.Properties)
        {
            Dictionary<string, object> d = new Dictionary<string, object>();
            d["name"] = p.Name;
            d["type"] = CimTypeName(p.Type);
            d["isArray"] = p.IsArray;
            props.Add(d);
        }
        Dictionary<string, object> result = new Dictionary<string, object>();
        result["className"] = cls.ClassPath.ClassName;
        result["properties"] = props.ToArray();
        return result;
    }

    static string CimTypeName(CimType type)
    {
        switch (type)
        {
            case CimType.Boolean: return "boolean";
            case CimType.SInt8: return "sint8";
            case CimType.UInt8: return "uint8";
            case CimType.SInt16: return "sint16";
            case CimType.UInt16: return "uint16";
            case CimType.SInt32: return "sint32";
            case CimType.UInt32: return "uint32";
            case CimType.SInt64: return "sint64";
            case CimType.UInt64: return "uint64";
            case CimType.Real32: return "real32";
            case CimType.Real64: return "real64";
            case CimType.Char16: return "char16";
            case CimType.DateTime: return "datetime";
            case CimType.Reference: return "reference";
            case CimType.Object: return "object";
            default: return "string";
        }
    }

    static object InvokeMethod(ManagementScope scope, string path, string method, IDictionary<string, object> args)
    {
        ManagementObject target = new ManagementObject(scope, new ManagementPath(path), null);
        ManagementBaseObject inParams = target.GetMethodParameters(method);
        if (args != null)
        {
            foreach (KeyValuePair<string, object> kv in args)
            {
                PropertyData p = inParams.Properties[kv.Key];
                inParams[kv.Key] = ToCim(scope, kv.Value, p.Type, p.IsArray);
            }
        }
        ManagementBaseObject outParams = target.InvokeMethod(method, inParams, null);
        Dictionary<string, object> result = new Dictionary<string, object>();
        foreach (PropertyData p in outParams.Properties) result[p.Name] = FromCim(p.Value, p.Type);
        return result;
    }

    // JavaScript value -> CIM value of the parameter's declared type. Embedded instances arrive
    // as dictionaries with __CLASS and leave as CIM-DTD 2.0 text, as Hyper-V's methods expect.
    static object ToCim(ManagementScope scope, object value, CimType type, bool isArray)
    {
        if (value == null) return null;
        if (isArray)
        {
            IList items = value as IList;
            if (items == null) items = new object[] { value };
            Array arr = Array.CreateInstance(ElementType(type), items.Count);
            for (int i = 0; i < items.Count; i++) arr.SetValue(ToCim(scope, items[i], type, false), i);
            return arr;
        }
        IDictionary<string, object> dict = value as IDictionary<string, object>;
        if (dict != null && dict.ContainsKey("__CLASS"))
        {
            ManagementClass cls = new ManagementClass(scope, new ManagementPath((string)dict["__CLASS"]), null);
            ManagementObject inst = cls.CreateInstance();
            foreach (KeyValuePair<string, object> kv in dict)
            {
                if (kv.Key.StartsWith("__")) continue;
                PropertyData p = inst.Properties[kv.Key];
                inst[kv.Key] = ToCim(scope, kv.Value, p.Type, p.IsArray);
            }
            return inst.GetText(TextFormat.CimDtd20);
        }
        switch (type)
        {
            case CimType.Boolean: return Convert.ToBoolean(value);
            case CimType.SInt8: return Convert.ToSByte(value);
            case CimType.UInt8: return Convert.ToByte(value);
            case CimType.SInt16: return Convert.ToInt16(value);
            case CimType.UInt16: return Convert.ToUInt16(value);
            case CimType.SInt32: return Convert.ToInt32(value);
            case CimType.UInt32: return Convert.ToUInt32(value);
            case CimType.SInt64: return Convert.ToInt64(value);
            case CimType.UInt64: return Convert.ToUInt64(value);
            case CimType.Real32: return Convert.ToSingle(value);
            case CimType.Real64: return Convert.ToDouble(value);
            default: return value.ToString();
        }
    }

    static Type ElementType(CimType type)
    {
        switch (type)
        {
            case CimType.Boolean: return typeof(bool);
            case CimType.SInt8: return typeof(sbyte);
            case CimType.UInt8: return typeof(byte);
            case CimType.SInt16: return typeof(short);
            case CimType.UInt16: return typeof(ushort);
            case CimType.SInt32: return typeof(int);
            case CimType.UInt32: return typeof(uint);
            case CimType.SInt64: return typeof(long);
            case CimType.UInt64: return typeof(ulong);
            case CimType.Real32: return typeof(float);
            case CimType.Real64: return typeof(double);
            default: return typeof(string);
        }
    }

    // CIM value -> JavaScript: 64-bit integers become decimal strings when they exceed 2^53
    // (JavaScript numbers are exact only up to there); the client parses them back.
    static object FromCim(object value, CimType type)
    {
        if (value == null) return null;
        Array arr = value as Array;
        if (arr != null && !(value is string))
        {
            object[] outArr = new object[arr.Length];
            for (int i = 0; i < arr.Length; i++) outArr[i] = FromCim(arr.GetValue(i), type);
            return outArr;
        }
        if (value is ulong)
        {
            ulong u = (ulong)value;
            return u > 9007199254740991UL ? (object)u.ToString() : (object)(double)u;
        }
        if (value is long)
        {
            long l = (long)value;
            return Math.Abs(l) > 9007199254740991L ? (object)l.ToString() : (object)(double)l;
        }
        if (value is uint) return (double)(uint)value;
        if (value is ushort || value is short || value is byte || value is sbyte || value is int) return Convert.ToInt32(value);
        if (value is ManagementBaseObject) return ToDictionary((ManagementBaseObject)value);
        return value;
    }

    static Dictionary<string, object> ToDictionary(ManagementBaseObject o)
    {
        Dictionary<string, object> d = new Dictionary<string, object>();
        foreach (PropertyData p in o.Properties) d[p.Name] = FromCim(p.Value, p.Type);
        d["__CLASS"] = o.ClassPath.ClassName;
        d["__PATH"] = (string)o["__PATH"];
        return d;
    }
}

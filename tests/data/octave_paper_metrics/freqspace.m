function [f1, f2] = freqspace(n, flag)
% shim: MATLAB's rule for the 2-output meshgrid form (as in /work/shared/golden/README.md)
if numel(n) == 1, n = [n n]; end
f1 = ((0:n(2)-1) - floor(n(2)/2)) * (2/n(2));
f2 = ((0:n(1)-1) - floor(n(1)/2)) * (2/n(1));
if nargin > 1 && strcmp(flag, 'meshgrid')
  [f1, f2] = meshgrid(f1, f2);
end
end
